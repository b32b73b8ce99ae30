// Requests hooklab sends never drive its own API. A webhook pointed at its own Test endpoint
// fired a Test per attempt, each firing another (~200 deliveries a second, taken up again by
// every restart, filling MAX_FINISHED_DELIVERIES with them): now the API refuses the
// dispatcher's requests (508 loop_refused), and the delivery fails as any refused one does.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery, TestResult, Webhook } from '../../shared/api.ts';
import { json, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

describe("hooklab's requests to its own API", () => {
  it("a webhook at its own Test endpoint: the Test is refused 508 and fires nothing more", async () => {
    const w = (await request(srv.base).post('/api/webhooks').send({ url: `${srv.base}/api/health`, timeoutMs: 2000 }).expect(201)).body as Webhook;
    await request(srv.base).patch(`/api/webhooks/${w.id}`).send({ url: `${srv.base}/api/webhooks/${w.id}/test` }).expect(200);
    const res = (await request(srv.base).post(`/api/webhooks/${w.id}/test`).expect(200)).body as TestResult;
    expect(res).toMatchObject({ status: 508, ok: false });
    expect(res.delivery.attempts[0].responseBody).toContain('loop_refused');
    await new Promise((r) => setTimeout(r, 500));
    const all = (await json<{ deliveries: Delivery[] }>(srv.base, 'GET', '/api/deliveries?limit=100')).body.deliveries;
    expect(all.filter((d) => d.webhookId === w.id)).toHaveLength(1);
  });

  it('any call carrying the dispatcher\'s x-hooklab-delivery header is refused, whatever name reached the server; other calls are not', async () => {
    const r = await request(srv.base).post('/api/bins').set('x-hooklab-delivery', 'dlv_1').expect(508);
    expect(r.body.error.code).toBe('loop_refused');
    expect(r.headers['x-hooklab-loop']).toBe('refused');
    await request(srv.base).post('/api/bins').expect(201);
  });
});
