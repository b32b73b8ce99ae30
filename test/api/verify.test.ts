// Issue 14 over HTTP: a bin's signature settings (secrets write-only), each capture's verdict
// on its list row and the reason in its detail, checked again when the settings change, and
// captures grouped by idempotency key (with senders that change keys on retries flagged).
import request from 'supertest';
import Stripe from 'stripe';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
const STRIPE_SECRET = 'whsec_test_stripe_0123456789abcdef';

async function until<T>(f: () => Promise<T>, ok: (x: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const x = await f();
    if (ok(x)) return x;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timed out');
}

describe('signature settings and verdicts', () => {
  it('a Stripe-signed request is valid, a tampered one invalid with the reason; secrets are never shown', async () => {
    const bin = await createBin(srv.base);
    const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'charge.succeeded' });
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET });
    const good = idOf(await send(bin.url, { headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload }));
    const tampered = idOf(await send(bin.url, { headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload.replace('succeeded', 'refunded') }));
    const unsigned = idOf(await send(bin.url, { body: 'no signature' }));

    const put = await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'stripe', secrets: [STRIPE_SECRET] }] }).expect(200);
    expect(put.body.rechecked).toBe(3);
    expect(JSON.stringify(put.body)).not.toContain(STRIPE_SECRET);
    const view = (await request(srv.base).get(`/api/bins/${bin.id}/verify`).expect(200)).body;
    expect(view.schemes[0].secrets).toEqual([{ last4: 'cdef', length: STRIPE_SECRET.length }]);

    const page = (await json<RequestPage>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body;
    const badge = Object.fromEntries(page.requests.map((r) => [r.id, r.verification?.status]));
    expect(badge).toEqual({ [good]: 'valid', [tampered]: 'invalid', [unsigned]: 'missing' });
    const d = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${tampered}`)).body;
    expect(d.verification).toMatchObject({ status: 'invalid', scheme: 'stripe' });
    expect(d.verification!.details!.cause).toMatch(/body_changed|wrong_secret/);
    expect(d.verification!.details!.signed!.text).toContain('refunded');
    expect(d.verification!.details!.expected).toHaveLength(1);
    expect(JSON.stringify(d)).not.toContain(STRIPE_SECRET);

    // Off again: the badges go.
    await request(srv.base).delete(`/api/bins/${bin.id}/verify`).expect(204);
    const after = (await json<RequestPage>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body;
    expect(after.requests.map((r) => r.verification)).toEqual([undefined, undefined, undefined]);
  });

  it('captures arriving after the settings are checked as they come (off the answer path), with their key', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'stripe', secrets: [STRIPE_SECRET] }] }).expect(200);
    const payload = JSON.stringify({ id: 'evt_live_1', object: 'event', type: 'charge.succeeded' });
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET });
    const r = await send(bin.url, { headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
    expect(r.status).toBe(200);
    const page = await until(
      async () => (await json<RequestPage>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body,
      (p) => p.requests[0]?.verification !== undefined,
    );
    expect(page.requests[0]).toMatchObject({ id: idOf(r), verification: { status: 'valid', scheme: 'stripe', secretIndex: 0 }, idempotencyKey: 'evt_live_1' });
  });

  it("the dispatcher's own signed deliveries verify as valid with the webhook's secret", async () => {
    const bin = await createBin(srv.base);
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const wh = (await request(srv.base).post('/api/webhooks').send({ url: bin.url, secret }).expect(201)).body;
    const test = (await request(srv.base).post(`/api/webhooks/${wh.id}/test`).expect(200)).body;
    expect(test.ok).toBe(true);
    await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'standard-webhooks', secrets: [secret] }] }).expect(200);
    const id = test.delivery.attempts[0].capturedRequestId;
    const d = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body;
    expect(d.verification).toMatchObject({ status: 'valid', scheme: 'standard-webhooks', secretIndex: 0 });
  });

  it('during a secret rotation the dispatcher signs with both secrets: receivers on either one verify', async () => {
    const bin = await createBin(srv.base);
    const oldSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const newSecret = 'whsec_dGhpcyBpcyB0aGUgbmV3IHNlY3JldCBmb3IgcXE=';
    const wh = (await request(srv.base).post('/api/webhooks').send({ url: bin.url, secret: newSecret, previousSecret: oldSecret }).expect(201)).body;
    expect(wh).toMatchObject({ hasSecret: true, hasPreviousSecret: true });
    expect(JSON.stringify(wh)).not.toContain('whsec_');
    const test = (await request(srv.base).post(`/api/webhooks/${wh.id}/test`).expect(200)).body;
    const id = test.delivery.attempts[0].capturedRequestId as string;
    const d = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body;
    const headers = Object.fromEntries(d.headers.map(([k, v]) => [k.toLowerCase(), v]));
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    // The senders' own library accepts it with either secret.
    for (const s of [oldSecret, newSecret]) expect(() => new StandardWebhook(s).verify(d.body, headers)).not.toThrow();
    for (const s of [oldSecret, newSecret]) {
      await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'standard-webhooks', secrets: [s] }] }).expect(200);
      expect((await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body.verification).toMatchObject({ status: 'valid', secretIndex: 0 });
    }
    // Rotation over: one signature again.
    await request(srv.base).patch(`/api/webhooks/${wh.id}`).send({ previousSecret: null }).expect(200);
    const after = (await request(srv.base).post(`/api/webhooks/${wh.id}/test`).expect(200)).body;
    const d2 = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${after.delivery.attempts[0].capturedRequestId}`)).body;
    expect(d2.headers.find(([k]) => k.toLowerCase() === 'webhook-signature')![1].split(' ')).toHaveLength(1);
  });

  it('bad settings get every error at once, and keep the old ones', async () => {
    const bin = await createBin(srv.base);
    const r = await request(srv.base)
      .put(`/api/bins/${bin.id}/verify`)
      .send({ schemes: [{ type: 'nope', secrets: [] }, { type: 'hmac', secrets: ['s'], algorithm: 'md5' }] })
      .expect(400);
    expect(r.body.error.fields.length).toBeGreaterThanOrEqual(2);
    expect((await request(srv.base).get(`/api/bins/${bin.id}/verify`)).body.schemes).toEqual([]);
  });
});

describe('verify settings revisions (ETag)', () => {
  it('a new secret is a new revision even when it shows the same hint; DELETE honours If-Match too', async () => {
    const bin = await createBin(srv.base);
    const api = request(srv.base);
    // Same length, same last 4: the answers look alike, the ETags must not.
    const first = await api.put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'github', secrets: ['first-secret-xyz1'] }] }).expect(200);
    const second = await api.put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'github', secrets: ['other-secret-xyz1'] }] }).expect(200);
    expect(second.body.schemes).toEqual(first.body.schemes);
    expect(second.headers.etag).not.toBe(first.headers.etag);
    await api.put(`/api/bins/${bin.id}/verify`).set('if-match', first.headers.etag).send({ schemes: [{ type: 'github', secrets: ['stale-tab'] }] }).expect(412);
    await api.delete(`/api/bins/${bin.id}/verify`).set('if-match', first.headers.etag).expect(412);
    const cur = await api.get(`/api/bins/${bin.id}/verify`).expect(200);
    expect(cur.body.schemes).toHaveLength(1);
    await api.delete(`/api/bins/${bin.id}/verify`).set('if-match', cur.headers.etag).expect(204);
    expect((await api.get(`/api/bins/${bin.id}/verify`).expect(200)).body.schemes).toEqual([]);
  });
});

describe('idempotency keys', () => {
  it('groups retries by key (attempt n of m), shows the others, and flags a body retried under new keys', async () => {
    const bin = await createBin(srv.base);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(idOf(await send(bin.url, { headers: { 'webhook-id': 'msg_same' }, body: '{"n":1}' })));
    // The same body twice more, each time under a new key: a sender that changes keys.
    const churn1 = idOf(await send(bin.url, { headers: { 'webhook-id': 'msg_a' }, body: '{"n":2}' }));
    const churn2 = idOf(await send(bin.url, { headers: { 'webhook-id': 'msg_b' }, body: '{"n":2}' }));
    // Keys are read when a bin's settings are applied (and at capture).
    await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [] }).expect(200);
    await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'github', secrets: ['x'] }] }).expect(200);
    const d = await until(
      async () => (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${ids[1]}`)).body,
      (x) => x.idempotency !== undefined,
    );
    expect(d.idempotency).toEqual({ key: 'msg_same', attempt: 2, attempts: 3, keyChurn: false });
    expect(d.sameKey).toEqual([ids[0], ids[2]]);
    const c = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${churn2}`)).body;
    expect(c.idempotency).toMatchObject({ key: 'msg_b', attempt: 1, attempts: 1, keyChurn: true });
    const groups = (await request(srv.base).get(`/api/bins/${bin.id}/idempotency`).expect(200)).body;
    expect(groups.groups.map((g: { key: string }) => g.key)).toEqual(['msg_same', 'msg_a', 'msg_b']);
    expect(groups.keyChurn).toHaveLength(1);
    expect(groups.keyChurn[0].ids).toEqual([churn1, churn2]);
  });
});
