// Editing signature settings without typing the saved secrets again: PUT …/verify may name a
// saved secret ({"keep": {"scheme": i, "secret": j}}: schemes[i].secrets[j] as GET showed it)
// instead of sending it, with If-Match naming the revision it was read from. A name that is
// stale (412), unpinned (428), points at nothing or at another sender's scheme (400 on that
// secret) changes nothing. Secrets never appear in an answer; config files still take only
// secrets themselves.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import Stripe from 'stripe';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import { loadConfigFile } from '../../server/config-file.ts';
import { DEFAULT_RESPONSE_LIMITS } from '../../shared/schema/response.ts';
import { send } from '../helpers/http.ts';
import { createBin, startServer, tempDir, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

const SW_OLD = 'whsec_b2xkLW9sZC1vbGQtb2xkLW9sZC1vbGQ=';
const SW_NEW = 'whsec_bmV3LW5ldy1uZXctbmV3LW5ldy1uZXc=';
const STRIPE_SECRET = 'whsec_keep_stripe_0123456789abcdef';
const GITHUB_SECRET = 'gh-keep-secret-0123456789';
const SECRETS = [SW_OLD, SW_NEW, STRIPE_SECRET, GITHUB_SECRET];

/** Every answer a test got, to check that no secret is in any of them. */
const answers: string[] = [];
const api = () => request(srv.base);
const seen = <T extends { text: string; headers: Record<string, string> }>(r: T): T => {
  answers.push(r.text, JSON.stringify(r.headers));
  return r;
};
const keep = (scheme: number, secret: number) => ({ keep: { scheme, secret } });
const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;

function swSigned(secret: string, id: string, body: string) {
  const now = new Date();
  return { headers: { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new StandardWebhook(secret).sign(id, now, body) }, body };
}
const stripeSigned = (payload: string) => ({
  headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET }) },
  body: payload,
});

async function until<T>(f: () => Promise<T>, ok: (x: T) => boolean): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const x = await f();
    if (ok(x)) return x;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timed out');
}

async function verdicts(binId: string) {
  const page = seen(await api().get(`/api/bins/${binId}/requests?limit=500`).expect(200)).body as RequestPage;
  return Object.fromEntries(page.requests.map((r) => [r.id, r.verification && { status: r.verification.status, scheme: r.verification.scheme, secretIndex: r.verification.secretIndex }]));
}
const detail = async (binId: string, id: string) => seen(await api().get(`/api/bins/${binId}/requests/${id}`).expect(200)).body as RequestDetail;
const current = async (binId: string) => seen(await api().get(`/api/bins/${binId}/verify`).expect(200));

describe('keeping saved secrets by reference', () => {
  it('a tolerance, idempotency or order change keeps the saved secrets, and the stored captures check the same', async () => {
    const bin = await createBin(srv.base);
    const first = seen(
      await api()
        .put(`/api/bins/${bin.id}/verify`)
        .send({ schemes: [{ type: 'standard-webhooks', secrets: [SW_OLD], toleranceSec: 300 }, { type: 'stripe', secrets: [STRIPE_SECRET] }] })
        .expect(200),
    );
    const sw = swSigned(SW_OLD, 'msg_keep_1', '{"n":1}');
    const swId = idOf(await send(bin.url, { headers: sw.headers, body: sw.body }));
    const st = stripeSigned(JSON.stringify({ id: 'evt_keep_1', object: 'event', type: 'charge.succeeded' }));
    const stId = idOf(await send(bin.url, { headers: st.headers, body: st.body }));
    const before = await until(
      () => verdicts(bin.id),
      (v) => v[swId]?.status === 'valid' && v[stId]?.status === 'valid',
    );
    expect(before).toEqual({ [swId]: { status: 'valid', scheme: 'standard-webhooks', secretIndex: 0 }, [stId]: { status: 'valid', scheme: 'stripe', secretIndex: 0 } });

    // Only the first scheme's tolerance and the idempotency header change; no secret is sent.
    const put = seen(
      await api()
        .put(`/api/bins/${bin.id}/verify`)
        .set('if-match', first.headers.etag)
        .send({
          schemes: [
            { type: 'standard-webhooks', secrets: [keep(0, 0)], toleranceSec: 600 },
            { type: 'stripe', secrets: [keep(1, 0)] },
          ],
          idempotency: { header: 'X-Event-Id' },
        })
        .expect(200),
    );
    expect(put.body.rechecked).toBe(2);
    expect(put.body.schemes).toEqual([
      { type: 'standard-webhooks', toleranceSec: 600, secrets: first.body.schemes[0].secrets },
      { type: 'stripe', secrets: first.body.schemes[1].secrets },
    ]);
    expect(put.body.idempotency).toEqual({ header: 'X-Event-Id' });
    expect(put.headers.etag).not.toBe(first.headers.etag);
    // Re-checked under the kept secrets: the same verdicts (the full checks too).
    expect(await verdicts(bin.id)).toEqual(before);
    expect((await detail(bin.id, swId)).verification).toMatchObject({ status: 'valid', scheme: 'standard-webhooks', schemeIndex: 0, secretIndex: 0 });

    // The order swapped: each secret follows its scheme (named by where it was saved).
    const swapped = seen(
      await api()
        .put(`/api/bins/${bin.id}/verify`)
        .set('if-match', put.headers.etag)
        .send({ schemes: [{ type: 'stripe', secrets: [keep(1, 0)] }, { type: 'standard-webhooks', secrets: [keep(0, 0)], toleranceSec: 600 }] })
        .expect(200),
    );
    expect(swapped.body.schemes.map((s: { type: string }) => s.type)).toEqual(['stripe', 'standard-webhooks']);
    expect(await verdicts(bin.id)).toEqual(before);
    expect((await detail(bin.id, stId)).verification).toMatchObject({ status: 'valid', scheme: 'stripe', schemeIndex: 0 });
    expect((await detail(bin.id, swId)).verification).toMatchObject({ status: 'valid', scheme: 'standard-webhooks', schemeIndex: 1 });

    // New captures are checked with the kept secrets too.
    const later = swSigned(SW_OLD, 'msg_keep_2', '{"n":2}');
    const laterId = idOf(await send(bin.url, { headers: later.headers, body: later.body }));
    expect((await until(() => verdicts(bin.id), (v) => v[laterId] !== undefined))[laterId]).toEqual({ status: 'valid', scheme: 'standard-webhooks', secretIndex: 0 });
  });

  it('a rotation keeps the old secret and adds a new one; removing the old one later keeps only the new', async () => {
    const bin = await createBin(srv.base);
    const first = seen(await api().put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'standard-webhooks', secrets: [SW_OLD] }] }).expect(200));
    const o = swSigned(SW_OLD, 'msg_rot_old', '{"k":"old"}');
    const oldId = idOf(await send(bin.url, { headers: o.headers, body: o.body }));
    await until(() => verdicts(bin.id), (v) => v[oldId]?.status === 'valid');

    const both = seen(
      await api()
        .put(`/api/bins/${bin.id}/verify`)
        .set('if-match', first.headers.etag)
        .send({ schemes: [{ type: 'standard-webhooks', secrets: [keep(0, 0), SW_NEW] }] })
        .expect(200),
    );
    expect(both.body.schemes[0].secrets).toEqual([first.body.schemes[0].secrets[0], { last4: SW_NEW.slice(-4), length: SW_NEW.length }]);
    const n = swSigned(SW_NEW, 'msg_rot_new', '{"k":"new"}');
    const newId = idOf(await send(bin.url, { headers: n.headers, body: n.body }));
    const during = await until(() => verdicts(bin.id), (v) => v[newId] !== undefined);
    expect(during).toEqual({
      [oldId]: { status: 'valid', scheme: 'standard-webhooks', secretIndex: 0 },
      [newId]: { status: 'valid', scheme: 'standard-webhooks', secretIndex: 1 },
    });

    // Rotation over: keep only the second saved secret (the new one).
    const after = seen(
      await api()
        .put(`/api/bins/${bin.id}/verify`)
        .set('if-match', both.headers.etag)
        .send({ schemes: [{ type: 'standard-webhooks', secrets: [keep(0, 1)] }] })
        .expect(200),
    );
    expect(after.body.schemes[0].secrets).toEqual([{ last4: SW_NEW.slice(-4), length: SW_NEW.length }]);
    const v = await verdicts(bin.id);
    expect(v[newId]).toEqual({ status: 'valid', scheme: 'standard-webhooks', secretIndex: 0 });
    expect(v[oldId]?.status).toBe('invalid');
  });

  it('refuses a reference without If-Match (428), with a stale ETag (412), or to nothing or another sender (400 on the secret): nothing changes', async () => {
    const bin = await createBin(srv.base);
    const url = `/api/bins/${bin.id}/verify`;
    const stale = seen(await api().put(url).send({ schemes: [{ type: 'github', secrets: [GITHUB_SECRET] }] }).expect(200));
    const saved = seen(await api().put(url).send({ schemes: [{ type: 'github', secrets: [GITHUB_SECRET, 'second-github-secret-xyz'] }, { type: 'stripe', secrets: [STRIPE_SECRET] }] }).expect(200));
    const etag = saved.headers.etag;
    const body = { schemes: [{ type: 'github', secrets: [keep(0, 0)] }] };
    const unchanged = async () => {
      const now = await current(bin.id);
      expect(now.headers.etag).toBe(etag);
      expect(now.body.schemes).toEqual(saved.body.schemes);
    };

    // No If-Match, "*", or a list: which revision the names mean is not said.
    for (const ifMatch of [undefined, '*', `${etag}, ${stale.headers.etag}`]) {
      const req = api().put(url);
      if (ifMatch) req.set('if-match', ifMatch);
      const r = seen(await req.send(body));
      expect(r.status, String(ifMatch)).toBe(428);
      expect(r.body.error.code).toBe('precondition_required');
      expect(r.body.error.message).toContain('If-Match');
    }
    await unchanged();

    // An older revision: the same answer any stale settings write gets.
    const r412 = seen(await api().put(url).set('if-match', stale.headers.etag).send(body).expect(412));
    expect(r412.body.error).toMatchObject({ code: 'precondition_failed' });
    expect(r412.body.error.message).toContain(etag);
    await unchanged();

    // Names that point at nothing, or at another sender's scheme: every one at once, by field.
    const bad = seen(
      await api()
        .put(url)
        .set('if-match', etag)
        .send({
          schemes: [
            { type: 'github', secrets: [keep(0, 1), keep(0, 2)] },
            { type: 'github', secrets: [keep(1, 0)] },
            { type: 'stripe', secrets: ['whsec_a_new_one_0000', keep(5, 0)] },
          ],
        })
        .expect(400),
    );
    expect(bad.body.error.code).toBe('invalid_field');
    expect(bad.body.error.field).toBe('schemes[0].secrets[1]');
    const byField = Object.fromEntries(bad.body.error.fields.map((f: { field: string; message: string }) => [f.field, f.message]));
    expect(Object.keys(byField)).toEqual(['schemes[0].secrets[1]', 'schemes[1].secrets[0]', 'schemes[2].secrets[1]']);
    expect(byField['schemes[0].secrets[1]']).toMatch(/secret 2 of saved scheme 0, which has 2 secrets/);
    expect(byField['schemes[1].secrets[0]']).toMatch(/saved scheme 1, a stripe scheme: a github scheme can keep only a github scheme's secrets/);
    expect(byField['schemes[2].secrets[1]']).toMatch(/saved scheme 5, but the saved settings have 2 schemes/);
    await unchanged();

    // A malformed name is refused by the schema, on the same field.
    const malformed = seen(await api().put(url).set('if-match', etag).send({ schemes: [{ type: 'github', secrets: [{ keep: { scheme: 'x', secret: 0 } }, 7] }] }).expect(400));
    expect(malformed.body.error.fields).toEqual([
      { field: 'schemes[0].secrets[0]', message: 'keep.scheme: must be an integer' },
      { field: 'schemes[0].secrets[1]', message: expect.stringMatching(/^must be a secret \(a string\), or \{"keep"/) },
    ]);
    await unchanged();

    // A bin with nothing saved has nothing to keep.
    const empty = await createBin(srv.base);
    const none = seen(await api().get(`/api/bins/${empty.id}/verify`).expect(200));
    const r = seen(await api().put(`/api/bins/${empty.id}/verify`).set('if-match', none.headers.etag).send(body).expect(400));
    expect(r.body.error.fields).toEqual([{ field: 'schemes[0].secrets[0]', message: 'keeps a secret of saved scheme 0, but no scheme is saved' }]);

    // The right ETag and names: accepted, the secret kept.
    const ok = seen(await api().put(url).set('if-match', etag).send(body).expect(200));
    expect(ok.body.schemes).toEqual([{ type: 'github', secrets: [saved.body.schemes[0].secrets[0]] }]);
  });

  it('documents the reference form in the OpenAPI document; config files still take only secrets themselves', async () => {
    const doc = seen(await api().get('/api/openapi.json').expect(200)).body;
    const op = doc.paths['/api/bins/{id}/verify'].put;
    expect(op.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/VerifySettingsPut' });
    expect(op.responses['412']).toBeDefined();
    expect(op.responses['428']).toBeDefined();
    expect(doc.components.schemas.KeptSecret.description).toContain('If-Match');
    expect(JSON.stringify(doc.components.schemas.VerifySchemePut)).toContain('#/components/schemas/KeptSecret');

    const dir = await tempDir();
    try {
      const file = path.join(dir, 'hooklab.config.json');
      await writeFile(file, JSON.stringify({ bins: [{ id: 'keep-in-config-0123456', verify: { schemes: [{ type: 'github', secrets: [keep(0, 0)] }] } }] }));
      await expect(loadConfigFile(file, DEFAULT_RESPONSE_LIMITS)).rejects.toThrow(/bins\[0\]\.verify\.schemes\[0\]\.secrets\[0\]: must be a string/);
      await writeFile(file, JSON.stringify({ bins: [{ id: 'keep-in-config-0123456', verify: { schemes: [{ type: 'github', secrets: [GITHUB_SECRET] }] } }] }));
      expect((await loadConfigFile(file, DEFAULT_RESPONSE_LIMITS)).bins?.[0].verify).toEqual({ schemes: [{ type: 'github', secrets: [GITHUB_SECRET] }] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('never answered a secret: not in any answer (bodies and headers) of the tests above', () => {
    expect(answers.length).toBeGreaterThan(20);
    const all = answers.join('\n');
    for (const x of SECRETS) expect(all).not.toContain(x);
  });
});
