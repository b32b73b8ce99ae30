// The wait API's budget: waiters are held per instance (WAIT_MAX_WAITERS) and per client IP
// (WAIT_MAX_WAITERS_PER_IP), counted from when a wait is taken until it answers, times out or
// its client goes; past a cap, 503 too_many_waiters with Retry-After. Waits pipelined on one
// connection count one each (MAX_CONNECTIONS does not bound them). Real HTTP over loopback.
import net from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ config: { waitMaxWaiters: 5, waitMaxWaitersPerIp: 3 } });
});
afterAll(() => srv.cleanup());

/** `n` waits pipelined on one socket; answers with the raw bytes read so far and the socket. */
function pipelined(path: string, n: number) {
  const u = new URL(srv.base);
  const socket = net.connect(Number(u.port), u.hostname);
  let got = '';
  socket.on('data', (d) => (got += d.toString('latin1')));
  socket.on('error', () => {});
  socket.write(Array.from({ length: n }, () => `GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`).join(''));
  return { socket, read: () => got };
}

describe('wait API budget', () => {
  it('one client: past WAIT_MAX_WAITERS_PER_IP, 503 too_many_waiters with Retry-After; a slot comes back when a wait answers or its client goes', async () => {
    const bin = await createBin(srv.base);
    const held = pipelined(`/api/bins/${bin.id}/requests/wait?timeout=60s`, 3);
    await expect.poll(() => srv.app.waiters.size).toBe(3);
    const r = await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?timeout=60s`);
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(r.body.error.code).toBe('too_many_waiters');
    expect(r.body.error.message).toMatch(/WAIT_MAX_WAITERS_PER_IP \(3\)/);
    // Delivery waits share the budget.
    expect((await request(srv.base).get('/api/deliveries/nope/wait?timeout=60s')).status).toBe(503);

    // A capture answers the three: their slots come back.
    await send(`${bin.url}/x`, { body: 'hi' });
    await expect.poll(() => (held.read().match(/HTTP\/1\.1 200/g) ?? []).length).toBe(3);
    const later = request(srv.base).get(`/api/bins/${bin.id}/requests/wait?q=never&timeout=60s`).then((x) => x);
    await expect.poll(() => srv.app.waiters.size).toBe(1);
    // A client that goes gives its slot back.
    const again = pipelined(`/api/bins/${bin.id}/requests/wait?q=never&timeout=60s`, 2);
    await expect.poll(() => srv.app.waiters.size).toBe(3);
    expect((await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?q=never&timeout=60s`)).status).toBe(503);
    again.socket.destroy();
    await expect.poll(() => srv.app.waiters.size).toBe(1);
    expect((await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?q=never&timeout=100ms`)).status).toBe(408);
    await send(`${bin.url}/never`, { body: 'never' });
    expect((await later).status).toBe(200);
    held.socket.destroy();
  });

  it('pipelined waits on one connection: only the budget is held, the rest answered 503', async () => {
    const bin = await createBin(srv.base);
    const p = pipelined(`/api/bins/${bin.id}/requests/wait?timeout=60s`, 20);
    await expect.poll(() => srv.app.waiters.size).toBe(3);
    await new Promise((r) => setTimeout(r, 200));
    expect(srv.app.waiters.size).toBe(3);
    // Answers go out in order: the three held, then the refusals queued behind them.
    await send(`${bin.url}/x`, { body: 'hi' });
    await expect.poll(() => (p.read().match(/HTTP\/1\.1 503/g) ?? []).length).toBe(17);
    expect((p.read().match(/HTTP\/1\.1 200/g) ?? []).length).toBe(3);
    p.socket.destroy();
    await expect.poll(() => srv.app.waiters.size).toBe(0);
    await expect.poll(() => srv.app.waitBudget.size).toBe(0);
  });

  it('a delivery wait gives its slot back: answered, timed out, or its client gone', async () => {
    expect(srv.app.waitBudget.size).toBe(0);
    const wh = (await request(srv.base).post('/api/webhooks').send({ name: 'w', url: 'http://127.0.0.1:9/x' }).expect(201)).body as { id: string };
    await request(srv.base).put('/api/clock').send({ paused: true }).expect(200);
    // A run's first delivery to a closed port: pending, its retry not due on a paused clock.
    await request(srv.base).post('/api/runs').send({}).expect(201);
    let id = '';
    await expect
      .poll(async () => {
        const ds = (await request(srv.base).get('/api/deliveries?state=pending').expect(200)).body.deliveries as { id: string; webhookId: string }[];
        id = ds.find((d) => d.webhookId === wh.id)?.id ?? '';
        return id;
      })
      .not.toBe('');
    const gone = pipelined(`/api/deliveries/${id}/wait?state=delivered&timeout=60s`, 2);
    await expect.poll(() => srv.app.waitBudget.size).toBe(2);
    gone.socket.destroy();
    await expect.poll(() => srv.app.waitBudget.size).toBe(0);
    expect((await request(srv.base).get(`/api/deliveries/${id}/wait?state=delivered&timeout=100ms`)).status).toBe(408);
    expect(srv.app.waitBudget.size).toBe(0);
    await request(srv.base).put('/api/clock').send({ paused: false }).expect(200);
  });

  it('a bad wait (400) or an unknown bin (404) takes no slot', async () => {
    const bin = await createBin(srv.base);
    expect(srv.app.waitBudget.size).toBe(0);
    for (let i = 0; i < 6; i++) {
      expect((await request(srv.base).get('/api/bins/nope/requests/wait')).status).toBe(404);
      expect((await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?timeout=abc`)).status).toBe(400);
      expect((await request(srv.base).get('/api/deliveries/nope/wait?timeout=60s')).status).toBe(404);
    }
    expect((await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?timeout=100ms`)).status).toBe(408);
  });
});
