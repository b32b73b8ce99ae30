// Issue 12, bug 3: deliveries to an always-500 bin with the clock running at 86400x, on the
// compiled server as `npm start` runs it (sender on its worker thread). Before, 14,590 of
// 18,000 attempts (2,000 deliveries) were stamped after their deadline. Now: every planned
// attempt is made once, at its planned instant, none after the deadline, the bin saw them in
// recorded order, and the clock said it could not keep up. The numbers go to test-artifacts/.
// 1,000 deliveries by default (it shares two cores with the rest of the suite);
// LOAD_DELIVERIES=2000 runs the issue's case.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClockState, Delivery, RequestPage } from '../../shared/api.ts';
import { ARTIFACTS } from '../helpers/browser.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { json, tempDir } from '../helpers/server.ts';

const DELIVERIES = Number(process.env.LOAD_DELIVERIES ?? 1000);
const DAY = 86_400_000;
let proc: ServerProcess | null = null;
let dataDir = '';

afterAll(async () => {
  if (proc && proc.proc.exitCode === null) {
    proc.proc.kill('SIGTERM');
    await proc.exited;
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe(`${DELIVERIES} deliveries at 86400x`, () => {
  it('every planned attempt once, on plan, none after the deadline, in recorded order at the bin; the clock says it lags', { timeout: 240_000 }, async () => {
    dataDir = await tempDir();
    proc = await spawnServer({ DATA_DIR: dataDir, MAX_REQUESTS_PER_BIN: '20000', MAX_FINISHED_DELIVERIES: '5000' });
    const base = proc.base;
    const bin = (await json<{ id: string; url: string }>(base, 'POST', '/api/bins', { name: 'always 500' })).body;
    await json(base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 500 } });
    await json(base, 'PUT', '/api/clock', { paused: true });
    await json(base, 'POST', '/api/webhooks', { url: `${base}/h/${bin.id}`, events: ['flow_started'] });
    let made = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (made < DELIVERIES) {
          made++;
          const r = await json(base, 'POST', '/api/runs', { durationMs: 30 * DAY });
          expect(r.status).toBe(201);
        }
      }),
    );

    const t0 = performance.now();
    await json(base, 'PUT', '/api/clock', { scale: 86_400, paused: false });
    let lagging = 0;
    let maxBehindMs = 0;
    for (;;) {
      const c = (await json<ClockState>(base, 'GET', '/api/clock')).body;
      if (c.lagging) lagging++;
      maxBehindMs = Math.max(maxBehindMs, c.behindMs);
      const pending = (await json<{ deliveries: Delivery[] }>(base, 'GET', '/api/deliveries?state=pending&limit=1')).body.deliveries;
      if (pending.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const wallMs = performance.now() - t0;
    await json(base, 'PUT', '/api/clock', { paused: true });

    const all = (await json<{ deliveries: Delivery[] }>(base, 'GET', '/api/deliveries?limit=5000')).body.deliveries;
    expect(all).toHaveLength(DELIVERIES);
    let attempts = 0;
    let afterDeadline = 0;
    let offPlan = 0;
    let onDeadline = 0;
    const sentAtOf = new Map<string, number>();
    for (const d of all) {
      const deadline = Date.parse(d.createdAt) + DAY;
      expect(d.state).toBe('failed');
      expect(d.attempts).toHaveLength(d.plannedAt.length);
      for (const a of d.attempts) {
        attempts++;
        if (Date.parse(a.sentAt) > deadline) afterDeadline++;
        if (a.sentAt !== a.plannedAt) offPlan++;
        if (Date.parse(a.sentAt) === deadline) onDeadline++;
        sentAtOf.set(a.capturedRequestId!, Date.parse(a.sentAt));
      }
    }

    // The bin's captures, oldest first: their recorded times never go back.
    const ids: string[] = [];
    for (let before: string | null = null; ; ) {
      const page: RequestPage = (await json<RequestPage>(base, 'GET', `/api/bins/${bin.id}/requests?limit=500${before ? `&before=${before}` : ''}`)).body;
      for (const r of page.requests) ids.push(r.id);
      if (!page.nextBefore) break;
      before = page.nextBefore;
    }
    ids.reverse();
    const times = ids.map((id) => sentAtOf.get(id));
    let outOfOrder = 0;
    for (let i = 1; i < times.length; i++) if (times[i]! < times[i - 1]!) outOfOrder++;

    const result = { deliveries: DELIVERIES, attempts, captures: ids.length, afterDeadline, onDeadline, offPlan, outOfOrder, wallMs: Math.round(wallMs), laggingSamples: lagging, maxBehindMs };
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(path.join(ARTIFACTS, 'dispatcher-load.json'), JSON.stringify(result, null, 2));
    console.info('dispatcher load at 86400x:', JSON.stringify(result));

    expect(times.every((t) => t !== undefined)).toBe(true);
    expect(ids).toHaveLength(attempts);
    expect(afterDeadline).toBe(0);
    expect(offPlan).toBe(0);
    expect(onDeadline).toBe(DELIVERIES);
    expect(outOfOrder).toBe(0);
    expect(lagging).toBeGreaterThan(0);
  });
});
