// Issue 14 over HTTP: a bin's signature settings (secrets write-only), each capture's verdict
// on its list row and the reason in its detail, checked again when the settings change, and
// captures grouped by idempotency key (with senders that change keys on retries flagged).
import { rm } from 'node:fs/promises';
import request from 'supertest';
import Stripe from 'stripe';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { collect, collectUpdates, connect, subscribe } from '../helpers/socket.ts';
import { createBin, json, startServer, tempDir, type TestServer } from '../helpers/server.ts';

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

  it('removing the secret during a rotation stops signing (the old secret goes too); an old secret without a secret is refused', async () => {
    const bin = await createBin(srv.base);
    const oldSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const newSecret = 'whsec_dGhpcyBpcyB0aGUgbmV3IHNlY3JldCBmb3IgcXE=';
    const wh = (await request(srv.base).post('/api/webhooks').send({ url: bin.url, secret: newSecret, previousSecret: oldSecret }).expect(201)).body;
    const off = (await request(srv.base).patch(`/api/webhooks/${wh.id}`).send({ secret: null }).expect(200)).body;
    expect(off).toMatchObject({ hasSecret: false, hasPreviousSecret: false });
    const sent = (await request(srv.base).post(`/api/webhooks/${wh.id}/test`).expect(200)).body;
    const d = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${sent.delivery.attempts[0].capturedRequestId}`)).body;
    expect(d.headers.filter(([k]) => k.toLowerCase() === 'webhook-signature')).toEqual([]);
    // An old secret alone means nothing: refused, on create and on update, and nothing changes.
    const bad = await request(srv.base).patch(`/api/webhooks/${wh.id}`).send({ previousSecret: oldSecret }).expect(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_field', field: 'previousSecret' });
    expect((await request(srv.base).get(`/api/webhooks/${wh.id}`).expect(200)).body).toMatchObject({ hasSecret: false, hasPreviousSecret: false });
    await request(srv.base).post('/api/webhooks').send({ url: bin.url, previousSecret: oldSecret }).expect(400);
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

describe('settings changes and what they leave behind', () => {
  const sw = (secret: string) => ({ type: 'standard-webhooks', secrets: [secret] });
  const SW_OLD = 'whsec_b2xkLW9sZC1vbGQtb2xkLW9sZC1vbGQ=';
  const SW_NEW = 'whsec_bmV3LW5ldy1uZXctbmV3LW5ldy1uZXc=';
  const signed = (secret: string, id: string, body: string) => {
    const now = new Date();
    return { headers: { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new StandardWebhook(secret).sign(id, now, body) }, body };
  };
  const statuses = async (binId: string) =>
    Object.fromEntries((await json<RequestPage>(srv.base, 'GET', `/api/bins/${binId}/requests?limit=500`)).body.requests.map((r) => [r.id, r.verification?.status ?? 'none']));

  it('settings that only name the idempotency key are kept, read back, used at capture, and check no signatures', async () => {
    const bin = await createBin(srv.base);
    const put = await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [], idempotency: { header: 'X-Request-Id' } }).expect(200);
    expect(put.body).toMatchObject({ schemes: [], idempotency: { header: 'X-Request-Id' } });
    expect((await request(srv.base).get(`/api/bins/${bin.id}/verify`).expect(200)).body).toEqual({ schemes: [], idempotency: { header: 'X-Request-Id' } });
    const id = idOf(await send(bin.url, { headers: { 'x-request-id': 'req_42', 'webhook-id': 'msg_ignored' }, body: '{}' }));
    const page = await until(
      async () => (await json<RequestPage>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body,
      (p) => p.requests[0]?.idempotencyKey !== undefined,
    );
    // The named header wins over webhook-id; no scheme: no badge.
    expect(page.requests[0]).toMatchObject({ id, idempotencyKey: 'req_42' });
    expect(page.requests[0].verification).toBeUndefined();
    // A JSON path instead: the stored capture is read again under it.
    await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [], idempotency: { jsonPath: 'data.id' } }).expect(200);
    const id2 = idOf(await send(bin.url, { headers: { 'content-type': 'application/json' }, body: '{"data":{"id":"evt_path"}}' }));
    await until(
      async () => (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${id2}`)).body,
      (d) => d.idempotency?.key === 'evt_path',
    );
    // Nothing named and no scheme: off, as DELETE.
    await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [] }).expect(200);
    expect((await request(srv.base).get(`/api/bins/${bin.id}/verify`).expect(200)).body).toEqual({ schemes: [] });
  });

  it('a key the old settings named goes when the settings change', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [], idempotency: { header: 'x-request-id' } }).expect(200);
    const keyed = idOf(await send(bin.url, { headers: { 'x-request-id': 'req_1' }, body: 'a' }));
    const both = idOf(await send(bin.url, { headers: { 'x-request-id': 'req_2', 'webhook-id': 'msg_2' }, body: 'b' }));
    await until(
      async () => (await json<RequestPage>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body,
      (p) => p.requests.every((r) => r.idempotencyKey),
    );
    await request(srv.base).delete(`/api/bins/${bin.id}/verify`).expect(204);
    const page = (await json<RequestPage>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body;
    const keys = Object.fromEntries(page.requests.map((r) => [r.id, r.idempotencyKey ?? null]));
    // Without the named header, the first has no key and the second falls back to webhook-id.
    expect(keys).toEqual({ [keyed]: null, [both]: 'msg_2' });
    expect((await request(srv.base).get(`/api/bins/${bin.id}/idempotency`).expect(200)).body.groups.map((g: { key: string }) => g.key)).toEqual(['msg_2']);
  });

  it('two saves in quick succession leave the verdicts of the second', async () => {
    const bin = await createBin(srv.base);
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const s = signed(SW_NEW, `msg_${i}`, `{"n":${i}}`);
      ids.push(idOf(await send(bin.url, { headers: s.headers, body: s.body })));
    }
    // The first save's re-check is still under way when the second lands.
    const first = request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [sw(SW_OLD)] });
    const second = request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [sw(SW_NEW)] });
    const [a, b] = await Promise.all([first, second]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const after = await statuses(bin.id);
    expect(new Set(Object.values(after))).toEqual(new Set(['valid']));
    expect(Object.keys(after)).toHaveLength(60);
  });

  it('captures signed with another secret are told "wrong_secret" as they arrive, and a changed body "body_changed"', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [sw(SW_OLD)] }).expect(200);
    const wrong: string[] = [];
    for (let i = 0; i < 3; i++) {
      const s = signed(SW_NEW, `msg_w${i}`, `{"w":${i}}`);
      wrong.push(idOf(await send(bin.url, { headers: s.headers, body: s.body })));
    }
    const causeOf = async (id: string) => (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body.verification?.details?.cause;
    // All three, the first included (told again once the second showed the pattern).
    for (const id of wrong) await until(() => causeOf(id), (c) => c === 'wrong_secret');

    // The sender's secret turns out right after all: a valid capture proves it, and the
    // failures before are judged again as changed bytes.
    const ok = signed(SW_OLD, 'msg_ok', '{"ok":1}');
    await send(bin.url, { headers: ok.headers, body: ok.body });
    for (const id of wrong) await until(() => causeOf(id), (c) => c === 'body_changed');
    const t = signed(SW_OLD, 'msg_t', '{"t":1}');
    const tampered = idOf(await send(bin.url, { headers: t.headers, body: '{"t":2}' }));
    const d = await until(
      async () => (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${tampered}`)).body,
      (x) => x.verification !== undefined,
    );
    expect(d.verification!.details).toMatchObject({ cause: 'body_changed' });
    expect(d.verification!.details!.message).toMatch(/verify other captures/);
  });

  it('a re-check writes and announces only the rows it changes', async () => {
    const bin = await createBin(srv.base);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const payload = JSON.stringify({ id: `evt_quiet_${i}`, object: 'event', type: 'charge.succeeded' });
      const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET });
      ids.push(idOf(await send(bin.url, { headers: { 'content-type': 'application/json', 'stripe-signature': header, ...(i === 1 ? { 'x-req': 'r-1' } : {}) }, body: payload })));
    }
    await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'stripe', secrets: [STRIPE_SECRET] }] }).expect(200);
    const viewer = await connect(srv.base);
    try {
      await subscribe(viewer, bin.id);
      const updates = collectUpdates(viewer);
      const captured = collect(viewer, 'request');
      // The same scheme, and a key header only the second capture carries: one row changes.
      const put = await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'stripe', secrets: [STRIPE_SECRET] }], idempotency: { header: 'x-req' } }).expect(200);
      expect(put.body.rechecked).toBe(3);
      // A capture's own event after the re-check's updates: everything before it has come.
      await send(bin.url, { body: 'sentinel' });
      await captured.until(1);
      expect(updates.items.map((r) => [r.id, r.idempotencyKey])).toEqual([[ids[1], 'r-1']]);
    } finally {
      viewer.close();
    }
  });

  it('after a restart, the first capture that verifies turns the stored "wrong_secret" rows into changed bytes', async () => {
    const dataDir = await tempDir();
    const first = await startServer({ dataDir });
    const bin = await createBin(first.base);
    await request(first.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [sw(SW_OLD)] }).expect(200);
    const wrong: string[] = [];
    for (let i = 0; i < 2; i++) {
      const s = signed(SW_NEW, `msg_r${i}`, `{"r":${i}}`);
      wrong.push(idOf(await send(bin.url, { headers: s.headers, body: s.body })));
    }
    const causeOf = async (base: string, id: string) => (await json<RequestDetail>(base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body.verification?.details?.cause;
    for (const id of wrong) await until(() => causeOf(first.base, id), (c) => c === 'wrong_secret');
    await first.stop();

    // A new process knows nothing of what the rows showed; the stored badges tell it.
    const second = await startServer({ dataDir });
    try {
      const url = bin.url.replace(first.base, second.base);
      const ok = signed(SW_OLD, 'msg_r_ok', '{"ok":1}');
      await send(url, { headers: ok.headers, body: ok.body });
      for (const id of wrong) await until(() => causeOf(second.base, id), (c) => c === 'body_changed');
    } finally {
      await second.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a capture signed outside the tolerance is "expired", with its skew', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ ...sw(SW_OLD), toleranceSec: 60 }] }).expect(200);
    const then = new Date(Date.now() - 600_000);
    const body = '{"late":true}';
    const headers = { 'webhook-id': 'msg_late', 'webhook-timestamp': String(Math.floor(then.getTime() / 1000)), 'webhook-signature': new StandardWebhook(SW_OLD).sign('msg_late', then, body) };
    const id = idOf(await send(bin.url, { headers, body }));
    const d = await until(
      async () => (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body,
      (x) => x.verification !== undefined,
    );
    expect(d.verification).toMatchObject({ status: 'expired', scheme: 'standard-webhooks', secretIndex: 0 });
    expect(d.verification!.skewSec).toBeGreaterThanOrEqual(599);
    expect(d.verification!.skewSec).toBeLessThan(700);
    expect(d.verification!.details).toMatchObject({ toleranceSec: 60 });
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
    // Each group says when its first and latest capture arrived; captures without a key are counted.
    const detail = async (id: string) => (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body.receivedAt;
    expect(groups.groups[0]).toMatchObject({ ids, firstAt: await detail(ids[0]), latestAt: await detail(ids[2]) });
    expect(groups.unkeyed).toBe(0);
    await send(bin.url, { body: 'no key' });
    expect((await request(srv.base).get(`/api/bins/${bin.id}/idempotency`).expect(200)).body.unkeyed).toBe(1);
    expect(groups.keyChurn).toHaveLength(1);
    expect(groups.keyChurn[0].ids).toEqual([churn1, churn2]);
  });
});
