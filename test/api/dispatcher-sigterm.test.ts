// Issue 12, bug 3: a SIGTERM while an attempt is in flight. The stop itself resets the
// connection; that is not the receiver's answer and must not be recorded as one ("connection
// reset by the receiver"). The attempt stays owed, and the restarted server makes it again:
// same attempt number, same webhook-id, and it says why. The compiled server, real signals.
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { Delivery, RequestPage } from '../../shared/api.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { json, tempDir } from '../helpers/server.ts';
import { until } from '../helpers/dispatch.ts';
import { freePort } from '../helpers/free-port.ts';

const running: ServerProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const p of running) {
    if (p.proc.exitCode === null) {
      p.proc.kill('SIGKILL');
      await p.exited;
    }
  }
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function start(dataDir: string, port: number, worker: boolean) {
  const p = await spawnServer({ DATA_DIR: dataDir, PORT: String(port), DISPATCH_WORKER: String(worker) });
  running.push(p);
  return p;
}

describe('SIGTERM with an attempt in flight', () => {
  it.each([true, false])('(sender on a worker thread: %s) is not recorded as a reset; after the restart the attempt is made again and says why', async (worker) => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const port = await freePort();
    const a = await start(dataDir, port, worker);
    const bin = (await json<{ id: string }>(a.base, 'POST', '/api/bins', { name: 'hangs once' })).body;
    // The first request hangs (the sender would wait a minute); later ones get 200.
    await json(a.base, 'PUT', `/api/bins/${bin.id}/response`, { plan: [{ fault: 'timeout' }] });
    await json(a.base, 'PUT', '/api/clock', { paused: true });
    const w = (await json<{ id: string }>(a.base, 'POST', '/api/webhooks', { url: `${a.base}/h/${bin.id}`, events: ['flow_started'], timeoutMs: 60_000 })).body;
    await json(a.base, 'POST', '/api/runs', {});
    await until(() => json<RequestPage>(a.base, 'GET', `/api/bins/${bin.id}/requests`).then((r) => r.body.requests.length), (n) => n === 1);
    const [owed] = (await json<{ deliveries: Delivery[] }>(a.base, 'GET', `/api/deliveries?webhookId=${w.id}`)).body.deliveries;
    expect(owed.attempts).toEqual([]); // in flight

    a.proc.kill('SIGTERM');
    const exit = await a.exited;
    expect(exit.code).toBe(0);
    expect(a.output()).toContain('stopped; everything is saved');

    const b = await start(dataDir, port, worker);
    // The clock is paused: after the restart it only makes what was owed, the attempt in flight.
    const done = await until(
      () => json<Delivery>(b.base, 'GET', `/api/deliveries/${owed.id}`).then((r) => r.body),
      (d) => d.attempts.length > 0,
    );
    expect(done.attempts.map((x) => x.error)).not.toContain('reset');
    expect(done.state).toBe('delivered');
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]).toMatchObject({ n: 1, status: 200, ok: true, reason: 'restart', sentAt: owed.plannedAt[0] });
    expect(done.attempts[0].reasonDetail).toBe('attempt 1 was in flight when the server stopped; it is made again after the restart');
    // The bin got it twice: the same attempt number and webhook-id (at-least-once).
    const reqs = (await json<RequestPage>(b.base, 'GET', `/api/bins/${bin.id}/requests`)).body.requests;
    expect(reqs).toHaveLength(2);
    for (const r of reqs) {
      expect(r.headers.find(([n]) => n === 'x-hooklab-attempt')?.[1]).toBe('1');
      expect(r.headers.find(([n]) => n === 'webhook-id')?.[1]).toBe(owed.webhookMessageId);
    }
    b.proc.kill('SIGTERM');
    await b.exited;
  });
});

describe('SIGKILL with an attempt in flight (no stop could say so)', () => {
  it('after the restart the attempt is made again, and says it was due while no dispatcher ran and may arrive twice', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const port = await freePort();
    // The receiver: holds the first request (the attempt in flight at the kill), answers the rest.
    let seen = 0;
    const held: http.ServerResponse[] = [];
    const receiver = http.createServer((req, res) => {
      req.resume();
      if (++seen === 1) held.push(res);
      else res.end('ok');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const a = await start(dataDir, port, false);
      await json(a.base, 'PUT', '/api/clock', { paused: true });
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const w = (await json<{ id: string }>(a.base, 'POST', '/api/webhooks', { url, events: ['flow_started'], timeoutMs: 60_000 })).body;
      await json(a.base, 'POST', '/api/runs', {});
      await until(async () => seen, (n) => n === 1);
      const [owed] = (await json<{ deliveries: Delivery[] }>(a.base, 'GET', `/api/deliveries?webhookId=${w.id}`)).body.deliveries;
      expect(owed.attempts).toEqual([]); // in flight
      // On disk first: a hard kill loses what was acknowledged in the last 2 x FLUSH_INTERVAL_MS (200 ms).
      await new Promise((r) => setTimeout(r, 1_000));
      a.proc.kill('SIGKILL');
      await a.exited;

      const b = await start(dataDir, port, false);
      const done = await until(
        () => json<Delivery>(b.base, 'GET', `/api/deliveries/${owed.id}`).then((r) => r.body),
        (d) => (d.attempts?.length ?? 0) > 0, // 503 while it loads (a lock taken over)
      );
      expect(seen).toBe(2);
      expect(done.attempts[0]).toMatchObject({ n: 1, status: 200, reason: 'restart' });
      expect(done.attempts[0].reasonDetail).toBe(
        `attempt 1 was due at ${owed.plannedAt[0]} while no dispatcher ran (the server down, or the instance running it stopped answering) (planned: at the event): made now; if it was in flight there, it may arrive twice (same webhook-id and attempt number)`,
      );
      b.proc.kill('SIGTERM');
      await b.exited;
    } finally {
      for (const r of held) r.destroy();
      receiver.close();
    }
  });
});
