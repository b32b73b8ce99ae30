// Issue 7: SIGKILL in the middle of a capture burst with deliveries pending, then start again
// on the same DATA_DIR: bins, plans, webhooks and pending deliveries are all there,
// deliveries resume, and only captures inside the stated window can be lost.
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery, RequestPage } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { spawnServer, startExpectingFailure } from '../helpers/process.ts';
import { createBin, json, startServer, tempDir, type TestServer } from '../helpers/server.ts';

const FLUSH_MS = 200;
/** README: a hard kill loses at most FLUSH_INTERVAL_MS of changes plus one write in flight. */
const WRITE_ALLOWANCE_MS = 250;

/**
 * When the last flush that completed began, from a server's output (LOG_FLUSH_MS=0 logs each):
 * everything it acknowledged before then is on disk.
 */
function lastFlushStart(output: string): number {
  const done = [...output.matchAll(/flushed to DATA_DIR (\{.*\})/g)]
    .map((m) => JSON.parse(m[1]) as { startedAt: string; ok: boolean })
    .filter((f) => f.ok)
    .map((f) => Date.parse(f.startedAt));
  expect(done.length, 'flushes completed before the kill').toBeGreaterThan(0);
  return Math.max(...done);
}

let receiver: TestServer;
const dirs: string[] = [];
beforeAll(async () => {
  receiver = await startServer({ storage: 'memory' });
});
afterAll(async () => {
  await receiver.cleanup();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function waitForFile(file: string, has: string) {
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.includes(has)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every request id a bin holds, paging through the API. */
async function allIds(base: string, binId: string): Promise<string[]> {
  const out: string[] = [];
  for (let before: string | null = null; ; ) {
    const q: string = before ? `&before=${before}` : '';
    const page = (await json<RequestPage>(base, 'GET', `/api/bins/${binId}/requests?limit=500${q}`)).body;
    for (const r of page.requests) out.push(r.id);
    if (!page.nextBefore) return out;
    before = page.nextBefore;
  }
}

describe('hard kill', () => {
  it('loses nothing but the last flush window, and owed deliveries resume', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    // A cap above the burst, so nothing is evicted and every acknowledged id must be found.
    const env = { DATA_DIR: dataDir, FLUSH_INTERVAL_MS: String(FLUSH_MS), MAX_REQUESTS_PER_BIN: '50000', LOG_FLUSH_MS: '0' };
    const target = await createBin(receiver.base);
    await request(receiver.base).put(`/api/bins/${target.id}/response`).send({ plan: [{ status: 500 }] }).expect(200);

    const p1 = await spawnServer(env);
    const bin = await createBin(p1.base, 'crash');
    await request(p1.base).put(`/api/bins/${bin.id}/response`).send({ plan: [{ status: 201, times: 1000000 }] }).expect(200);
    await json(p1.base, 'PUT', '/api/clock', { paused: true });
    const wh = (await request(p1.base).post('/api/webhooks').send({ url: target.url, events: ['flow_started'], name: 'crash-hook' }).expect(201)).body;
    await request(p1.base).post('/api/runs').send({}).expect(201);
    const [d0] = (await json<{ deliveries: Delivery[] }>(p1.base, 'GET', `/api/deliveries?webhookId=${wh.id}`)).body.deliveries;
    await waitForFile(path.join(dataDir, 'deliveries.log'), '"add":[{');
    await waitForFile(path.join(dataDir, 'webhooks.log'), 'crash-hook');

    // Burst: 2 senders in a loop, recording when each capture was acknowledged. (Few enough
    // that the bin file, uncapped here, stays small.)
    const acked: { id: string; at: number }[] = [];
    let stop = false;
    const senders = Array.from({ length: 2 }, async () => {
      while (!stop) {
        const r = await send(bin.url.replace(/^http:\/\/[^/]+/, p1.base), { body: JSON.stringify({ n: acked.length }) }).catch(() => null);
        if (!r) return;
        acked.push({ id: r.headers['x-hooklab-request-id'] as string, at: Date.now() }); // the server's clock too
      }
    });
    // Run long enough that several flushes happened during the burst.
    const burstStart = performance.now();
    while (acked.length < 400 || performance.now() - burstStart < 4 * (FLUSH_MS + WRITE_ALLOWANCE_MS)) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const killedAt = Date.now();
    p1.proc.kill('SIGKILL');
    stop = true;
    await Promise.all(senders);
    await p1.exited;
    const durable = lastFlushStart(p1.output());
    expect(killedAt - durable).toBeLessThan(10 * (FLUSH_MS + WRITE_ALLOWANCE_MS));

    const p2 = await spawnServer(env);
    try {
      // Config, plans, webhooks, pending deliveries: all there.
      expect((await json<{ name: string }>(p2.base, 'GET', `/api/bins/${bin.id}`)).body.name).toBe('crash');
      const resp = (await json<{ config: { plan: { status: number }[] } }>(p2.base, 'GET', `/api/bins/${bin.id}/response`)).body;
      expect(resp.config.plan[0].status).toBe(201);
      expect((await json<{ name: string }>(p2.base, 'GET', `/api/webhooks/${wh.id}`)).body.name).toBe('crash-hook');
      const d = (await json<Delivery>(p2.base, 'GET', `/api/deliveries/${d0.id}`)).body;
      expect(d.state).toBe('pending');
      expect(d.attempts).toHaveLength(1);

      // Captures: everything acknowledged before the last completed flush began is on disk.
      const stored = new Set(await allIds(p2.base, bin.id));
      const mustHave = acked.filter((a) => a.at < durable);
      const lost = acked.filter((a) => !stored.has(a.id));
      expect(mustHave.length).toBeGreaterThan(0);
      expect(mustHave.filter((a) => !stored.has(a.id))).toEqual([]);
      // And the bin is still usable and consistent.
      expect(lost.length).toBeLessThan(acked.length);
      console.log(`hard kill: ${acked.length} acknowledged, ${lost.length} lost (the last completed flush began ${killedAt - durable} ms before the kill)`);
      expect((await send(bin.url.replace(/^http:\/\/[^/]+/, p2.base), { body: 'after' })).status).toBe(201);

      // The owed delivery resumes.
      await json(p2.base, 'POST', '/api/clock/advance', { to: 'next' });
      const resumed = (await json<Delivery>(p2.base, 'GET', `/api/deliveries/${d0.id}`)).body;
      expect(resumed.state).toBe('delivered');
      expect(resumed.attempts.map((a) => a.status)).toEqual([500, 200]);
    } finally {
      p2.proc.kill('SIGTERM');
      await p2.exited;
    }
  });

  // The contract is exact: what was acknowledged before a flush began is on disk once that flush
  // is done (the server logs each one with LOG_FLUSH_MS=0). How long a flush takes is the disk's:
  // one in flight at the kill may hold what was acknowledged up to FLUSH_INTERVAL_MS plus its
  // own duration before. On an idle machine that is ~250 ms; here, other test files writing
  // hundreds of MB at once made one flush take over 600 ms (a CI run on 2026-12-02). So the
  // window is guarded with a generous bound, and its size is printed.
  it('SIGKILL loop with 1 MB bodies: every capture acknowledged before the last completed flush began survives, nothing deleted returns', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const env = { DATA_DIR: dataDir, FLUSH_INTERVAL_MS: String(FLUSH_MS), MAX_REQUESTS_PER_BIN: '50000', LOG_FLUSH_MS: '0' };
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    const acked: { id: string; bin: string; at: number; round: number }[] = [];
    /** When each round's process was killed: what it acknowledged is judged against that kill. */
    const kills: number[] = [];
    /** When the last flush that completed before each kill began (server's wall clock). */
    const durableFrom: number[] = [];
    /** Acknowledged more than FLUSH_MS + WRITE_ALLOWANCE_MS before their kill, yet lost (printed: the disk's speed). */
    let lateLost = 0;
    const deleted = new Set<string>();
    /** Deletes sent, answered or not: one in flight at the kill may or may not have happened. */
    const deleteSent = new Set<string>();
    const bins: string[] = [];
    let checked = 0;
    for (let round = 0; round < 3; round++) {
      const p = await spawnServer(env);
      // A new bin each round: a 201 must never be undone by a crash either.
      const bin = await createBin(p.base, `round-${round}`);
      bins.push(bin.id);
      const url = (id: string) => `${p.base}/h/${id}`;
      let stop = false;
      const senders = Array.from({ length: 2 }, async () => {
        while (!stop) {
          const target = bins[Math.floor(Math.random() * bins.length)];
          const r = await send(url(target), { body }).catch(() => null);
          if (!r) return;
          // Wall clock, as the server's flush log: both on this machine.
          if (r.status === 200) acked.push({ id: r.headers['x-hooklab-request-id'] as string, bin: target, at: Date.now(), round });
        }
      });
      const deleter = (async () => {
        while (!stop) {
          const victim = acked[Math.floor(Math.random() * acked.length)];
          if (victim && !deleteSent.has(victim.id)) {
            deleteSent.add(victim.id);
            const r = await fetch(`${p.base}/api/bins/${victim.bin}/requests/${victim.id}`, { method: 'DELETE' }).catch(() => null);
            if (r?.status === 204) deleted.add(victim.id);
          }
          await new Promise((r) => setTimeout(r, 40));
        }
      })();
      const t0 = performance.now();
      while (performance.now() - t0 < 2000 + Math.random() * 1000) await new Promise((r) => setTimeout(r, 10));
      kills.push(Date.now());
      p.proc.kill('SIGKILL');
      stop = true;
      await Promise.all([...senders, deleter]);
      await p.exited; // its output read to the end: every flush it reported
      durableFrom.push(lastFlushStart(p.output()));
      // The generous guard (10x the idle figure): flushes kept coming until the kill.
      expect(kills[round] - durableFrom[round]).toBeLessThan(10 * (FLUSH_MS + WRITE_ALLOWANCE_MS));

      const q = await spawnServer(env);
      try {
        const stored = new Map<string, Set<string>>();
        for (const b of bins) {
          expect((await json(q.base, 'GET', `/api/bins/${b}`)).status).toBe(200);
          stored.set(b, new Set(await allIds(q.base, b)));
        }
        const mustHave = acked.filter((a) => a.at < durableFrom[a.round] && !deleteSent.has(a.id));
        const missing = mustHave.filter((a) => !stored.get(a.bin)!.has(a.id));
        lateLost += acked.filter((a) => a.round === round && a.at < kills[round] - FLUSH_MS - WRITE_ALLOWANCE_MS && !deleteSent.has(a.id) && !stored.get(a.bin)!.has(a.id)).length;
        // On failure: which, acknowledged how long before their kill, and the server's last words.
        const why = () => `round ${round}: ${JSON.stringify(missing.map((m) => [m.id, m.round, Math.round(kills[m.round] - m.at)]))}\n${q.output().slice(-3000)}`;
        expect(missing, missing.length ? why() : undefined).toEqual([]);
        const back = [...deleted].filter((id) => [...stored.values()].some((set) => set.has(id)));
        expect(back).toEqual([]);
        checked = mustHave.length;
        // A stored body is the whole body, byte for byte.
        const sample = [...stored.get(bins[0])!][0];
        if (sample) {
          const raw = await fetch(`${q.base}/api/bins/${bins[0]}/requests/${sample}/raw`);
          expect(Buffer.from(await raw.arrayBuffer()).equals(body)).toBe(true);
        }
      } finally {
        q.proc.kill('SIGTERM');
        expect((await q.exited).code).toBe(0);
      }
      // Nothing a crash can leave behind piles up: temp files are cleaned at start.
      expect((await readdir(dataDir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    }
    console.log(
      `SIGKILL loop, 1 MB bodies: ${acked.length} acknowledged, ${checked} checked present, ${deleted.size} deleted stayed gone; ` +
        `the last completed flush began ${kills.map((k, i) => k - durableFrom[i]).join(', ')} ms before each kill; ` +
        `${lateLost} acknowledged more than ${FLUSH_MS + WRITE_ALLOWANCE_MS} ms before a kill were in a flush still in flight`,
    );
    expect(checked).toBeGreaterThan(10);
    expect(deleted.size).toBeGreaterThan(3);
  });

  it('SIGTERM flushes everything: nothing acknowledged is lost', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const p1 = await spawnServer({ DATA_DIR: dataDir, FLUSH_INTERVAL_MS: '60000' });
    const bin = await createBin(p1.base);
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await send(bin.url.replace(/^http:\/\/[^/]+/, p1.base), { body: String(i) })).headers['x-hooklab-request-id'] as string);
    p1.proc.kill('SIGTERM');
    expect((await p1.exited).code).toBe(0);
    const p2 = await spawnServer({ DATA_DIR: dataDir });
    try {
      const page = (await json<RequestPage>(p2.base, 'GET', `/api/bins/${bin.id}/requests?limit=500`)).body;
      expect(page.requests.map((r) => r.id).reverse()).toEqual(ids);
    } finally {
      p2.proc.kill('SIGTERM');
      await p2.exited;
    }
  });

  it('a torn data file stops start-up with a clear error naming it, and is kept as it was', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const file = path.join(dataDir, 'deliveries.json');
    await writeFile(file, '{"version":1,"deliveries":[{"id":"dl_1","sta');
    const { code, output } = await startExpectingFailure({ DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(output).toContain(`Cannot read data file ${file}`);
    expect(output).toContain('not valid JSON');
    expect(await readFile(file, 'utf8')).toBe('{"version":1,"deliveries":[{"id":"dl_1","sta');
  });
});
