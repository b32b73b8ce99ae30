// Imported captures (NDJSON and HAR) into a bin with verify settings get what captured ones
// get: a signature verdict, judged against the time each one arrived, and an idempotency key
// that the key filter, the wait API and the key groups see.
import request from 'supertest';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestPage } from '../../shared/api.ts';
import { exportLine } from '../helpers/export-line.ts';
import { send } from '../helpers/http.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/until.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

const SECRET = 'whsec_import_0123456789abcdef';
const stripeSettings = { schemes: [{ type: 'stripe', secrets: [SECRET] }] };

/** An export line of a Stripe event that arrived `ageSec` ago, signed when it arrived (or with another secret). */
function stripeLine(id: string, ageSec: number, secret = SECRET): string {
  const arrived = Math.floor(Date.now() / 1000) - ageSec;
  const payload = JSON.stringify({ id, object: 'event', type: 'charge.succeeded' });
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: arrived });
  return exportLine({
    headers: [['Content-Type', 'application/json'], ['Stripe-Signature', header]],
    receivedAt: new Date(arrived * 1000).toISOString(),
    size: payload.length,
    contentType: 'application/json',
    body: Buffer.from(payload).toString('base64'),
  });
}

const rows = async (binId: string) => (await json<RequestPage>(srv.base, 'GET', `/api/bins/${binId}/requests`)).body.requests;
const verdicts = async (binId: string, n: number) => {
  let page: RequestPage['requests'] = [];
  await until(async () => (page = await rows(binId)).length === n && page.every((x) => x.verification !== undefined), 'a verdict on every imported capture');
  return Object.fromEntries(page.map((r) => [r.idempotencyKey, `${r.verification!.status}${r.verification!.cause ? `/${r.verification!.cause}` : ''}`]));
};

describe('imported captures are checked and keyed', () => {
  it('NDJSON: a verdict per capture (an hour-old one judged when it arrived), keys the filters and groups find', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/verify`).send(stripeSettings).expect(200);
    const text = [stripeLine('evt_old', 3600), stripeLine('evt_new', 5), stripeLine('evt_other', 5, 'whsec_another_secret_0123')].join('\n') + '\n';
    await request(srv.base).post(`/api/bins/${bin.id}/import`).set('content-type', 'application/x-ndjson').send(text).expect(200);

    expect(await verdicts(bin.id, 3)).toEqual({ evt_old: 'valid', evt_new: 'valid', evt_other: 'invalid/body_changed' });
    const keyed = await request(srv.base).get(`/api/bins/${bin.id}/requests?key=evt_old`).expect(200);
    expect(keyed.body.requests.map((r: { idempotencyKey: string }) => r.idempotencyKey)).toEqual(['evt_old']);
    const waited = await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?key=evt_new&timeout=1s`).expect(200);
    expect(waited.body.idempotencyKey).toBe('evt_new');
    const groups = (await request(srv.base).get(`/api/bins/${bin.id}/idempotency`).expect(200)).body;
    expect(groups.unkeyed).toBe(0);
    expect(groups.groups.map((g: { key: string }) => g.key).sort()).toEqual(['evt_new', 'evt_old', 'evt_other']);
  });

  it('HAR: an export of captured requests imports with the same verdicts and keys', async () => {
    const from = await createBin(srv.base);
    const payload = JSON.stringify({ id: 'evt_har', object: 'event', type: 'charge.succeeded' });
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
    await send(from.url, { headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
    await send(from.url, { headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload.replace('evt_har', 'evt_har_tampered') });
    const har = await request(srv.base).get(`/api/bins/${from.id}/export?format=har`).expect(200);

    const to = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${to.id}/verify`).send(stripeSettings).expect(200);
    await request(srv.base).post(`/api/bins/${to.id}/import`).set('content-type', 'application/json').send(har.text).expect(200);
    const got = await verdicts(to.id, 2);
    expect(got.evt_har).toBe('valid');
    expect(got.evt_har_tampered).toMatch(/^invalid\//);
    expect((await request(srv.base).get(`/api/bins/${to.id}/idempotency`).expect(200)).body.unkeyed).toBe(0);
  });
});
