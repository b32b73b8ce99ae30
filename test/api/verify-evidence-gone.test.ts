// What a bin's captures show about its secrets ("this scheme's secrets verify other captures")
// counts only while those captures are there: deleting the only valid one, clearing the bin, or
// its eviction turns the picture, and every capture, stored or new, is judged as a re-check with
// the same settings would judge it.
import request from 'supertest';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/until.ts';

let srv: TestServer;
/** MAX_REQUESTS_PER_BIN 3: the valid capture is evicted by the fourth. */
let small: TestServer;
beforeAll(async () => {
  [srv, small] = await Promise.all([startServer(), startServer({ storage: 'memory', config: { maxRequestsPerBin: 3 } })]);
});
afterAll(async () => {
  await srv.cleanup();
  await small.cleanup();
});

const SECRET = 'whsec_evidence_0123456789abcdef';
const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
const body = (id: string) => JSON.stringify({ id, object: 'event', type: 'charge.succeeded' });
/** Signed for evt_good: valid for that body, a changed body for any other. */
const header = () => Stripe.webhooks.generateTestHeaderString({ payload: body('evt_good'), secret: SECRET });

async function stripeBin(base: string) {
  const bin = await createBin(base);
  await request(base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'stripe', secrets: [SECRET] }] }).expect(200);
  const post = async (id: string) => idOf(await send(bin.url.replace(srv.base, base), { headers: { 'content-type': 'application/json', 'stripe-signature': header() }, body: body(id) }));
  const detail = async (id: string) => (await json<RequestDetail>(base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body.verification?.details;
  const causeIs = (id: string, cause: string) => until(async () => (await detail(id))?.cause === cause, `${id}: ${cause}`);
  return { bin, post, detail, causeIs };
}

describe('evidence about the secrets when captures leave', () => {
  it('the only valid capture deleted: the failures are wrong_secret, new ones too, and a PUT of the same settings changes nothing', async () => {
    const { bin, post, detail, causeIs } = await stripeBin(srv.base);
    const good = await post('evt_good');
    const tampered = [await post('evt_h'), await post('evt_f')];
    for (const id of tampered) await causeIs(id, 'body_changed');
    expect((await detail(tampered[1]))!.message).toMatch(/verify other captures/);

    await request(srv.base).delete(`/api/bins/${bin.id}/requests/${good}`).expect(204);
    for (const id of tampered) await causeIs(id, 'wrong_secret');
    const next = await post('evt_g');
    await causeIs(next, 'wrong_secret');
    expect((await detail(next))!.message).not.toMatch(/verify other captures/);

    // A re-check with the same settings agrees (before the fix it turned them all).
    await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'stripe', secrets: [SECRET] }] }).expect(200);
    expect((await Promise.all([...tampered, next].map(detail))).map((d) => d?.cause)).toEqual(['wrong_secret', 'wrong_secret', 'wrong_secret']);
  });

  it('cleared: a failure after it is told as a lone one, not as "secrets verify other captures"', async () => {
    const { bin, post, detail, causeIs } = await stripeBin(srv.base);
    await post('evt_good');
    await causeIs(await post('evt_x'), 'body_changed');
    await request(srv.base).delete(`/api/bins/${bin.id}/requests`).expect(204);
    const lone = await post('evt_y');
    await until(async () => (await detail(lone)) !== undefined, 'a verdict');
    expect(await detail(lone)).toMatchObject({ cause: 'body_changed', message: expect.not.stringMatching(/verify other captures/) });
  });

  it('evicted (MAX_REQUESTS_PER_BIN): the valid capture pushed out, the failures left are wrong_secret', async () => {
    const { post, causeIs } = await stripeBin(small.base);
    await post('evt_good');
    const tampered = [await post('evt_1'), await post('evt_2')];
    for (const id of tampered) await causeIs(id, 'body_changed');
    tampered.push(await post('evt_3')); // evicts evt_good
    for (const id of tampered) await causeIs(id, 'wrong_secret');
  });
});
