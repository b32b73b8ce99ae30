// Replays asked for through the API hold their body (maybe an edited one) while they wait for
// a sending slot: at most FORWARD_CONCURRENCY of them wait or run at once, past that 503
// too_many_replays with Retry-After; one whose client leaves before its turn is not sent.
// (Before: 300 waiting replays of 750 KB to a target that hangs held ~800 MB, and still ran
// after their client had gone.) Real HTTP over loopback, a target that holds its answers.
import http from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let target: http.Server;
let targetUrl = '';
const held: http.ServerResponse[] = [];
const seen: string[] = [];

beforeAll(async () => {
  srv = await startServer({ storage: 'memory', config: { forwardConcurrency: 2, forwardTimeoutMs: 60_000 } });
  target = http.createServer((req, res) => {
    seen.push(req.url!);
    held.push(res);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
});
afterAll(async () => {
  target.closeAllConnections();
  target.close();
  await srv.cleanup();
});

const answerHeld = () => {
  for (const r of held.splice(0)) r.end('ok');
};

describe('replay budget', () => {
  it('past FORWARD_CONCURRENCY replays waiting or under way: 503 too_many_replays with Retry-After; a slot comes back when one ends', async () => {
    const bin = await createBin(srv.base);
    const rid = (await send(`${bin.url}/a`, { body: 'x' })).headers['x-hooklab-request-id'] as string;
    const replay = (path: string) => request(srv.base).post(`/api/bins/${bin.id}/requests/${rid}/replay`).send({ url: `${targetUrl}${path}` });
    const first = [replay('/r1').then((r) => r), replay('/r2').then((r) => r)];
    await expect.poll(() => held.length).toBe(2);
    const refused = await replay('/r3');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body.error.code).toBe('too_many_replays');
    answerHeld();
    for (const r of await Promise.all(first)) expect(r.status).toBe(200);
    const again = replay('/r4').then((r) => r);
    await expect.poll(() => held.length).toBe(1);
    answerHeld();
    expect((await again).status).toBe(200);
    expect(seen.filter((u) => u.startsWith('/r'))).toEqual(['/r1/a', '/r2/a', '/r4/a']); // the target's path, then the capture's
  });

  it('a replay whose client left while it waited for a slot is not sent', async () => {
    // Both slots taken by bulk replays (not counted as asked-for replays) to the held target.
    const bins = await Promise.all([createBin(srv.base), createBin(srv.base)]);
    for (const b of bins) await send(`${b.url}/bulk`, { body: 'b' });
    for (const b of bins) expect((await request(srv.base).post(`/api/bins/${b.id}/replay`).send({ url: `${targetUrl}/bulk` })).status).toBe(202);
    await expect.poll(() => held.length).toBe(2);
    const bin = await createBin(srv.base);
    const rid = (await send(`${bin.url}/a`, { body: 'x' })).headers['x-hooklab-request-id'] as string;
    const u = new URL(srv.base);
    const body = JSON.stringify({ url: `${targetUrl}/abandoned` });
    const req = http.request({ host: u.hostname, port: u.port, method: 'POST', path: `/api/bins/${bin.id}/requests/${rid}/replay`, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    req.on('error', () => {});
    req.end(body);
    await new Promise((r) => setTimeout(r, 300)); // it waits for a slot
    req.destroy();
    await new Promise((r) => setTimeout(r, 100));
    answerHeld(); // the slots come free
    await expect.poll(() => held.length, { timeout: 5000 }).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.filter((s) => s.startsWith('/abandoned'))).toEqual([]);
    expect(seen.filter((s) => s.startsWith('/bulk'))).toHaveLength(2);
    const d = (await request(srv.base).get(`/api/bins/${bin.id}/requests/${rid}`).expect(200)).body;
    expect(d.forwards).toEqual([]);
  });
});
