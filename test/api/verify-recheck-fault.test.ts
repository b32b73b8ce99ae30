// A change of signature settings is saved before its re-check of the stored captures reads
// them. When the store cannot be read for that re-check (a disk fault, Redis away), the change
// still stands: PUT answers 200 with the settings and why the re-check did not run through
// (before, 500, though the settings were saved and in force), DELETE answers 204, and the
// re-check is retried in the background until the store reads again. Real server over HTTP,
// real lowdb files; the fault is a store read that throws the store's own read error.
import request from 'supertest';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestPage } from '../../shared/api.ts';
import { StoreReadError } from '../../server/store/types.ts';
import { send } from '../helpers/http.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/until.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

const SECRET = 'whsec_test_recheck_fault_0123456789';

/** While on, listing a bin's captures fails as a store whose files cannot be read does; counts the failures. */
function faultyLists() {
  const items = srv.store.requests.items.bind(srv.store.requests);
  const f = { on: true, failed: 0 };
  srv.store.requests.items = async (...args: Parameters<typeof items>) => {
    if (f.on) {
      f.failed++;
      throw new StoreReadError('A stored capture could not be read back (test fault)');
    }
    return items(...args);
  };
  return { f, restore: () => (srv.store.requests.items = items) };
}

async function statuses(binId: string) {
  const page = (await json<RequestPage>(srv.base, 'GET', `/api/bins/${binId}/requests`)).body;
  return page.requests.map((r) => r.verification?.status).reverse();
}

describe('signature settings saved while the store cannot be read for their re-check', () => {
  it('PUT answers 200 with the settings and why; the re-check is retried and gets through once the store reads', async () => {
    const bin = await createBin(srv.base);
    const payload = JSON.stringify({ id: 'evt_fault_1', object: 'event' });
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
    await send(bin.url, { headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
    await send(bin.url, { headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload.replace('1', '2') });

    const fault = faultyLists();
    try {
      const put = await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'stripe', secrets: [SECRET] }] }).expect(200);
      expect(put.body.rechecked).toBeNull();
      expect(put.body.recheckError).toMatch(/could not be checked again.*could not be read back.*retry/);
      expect(put.body.schemes).toHaveLength(1);
      expect(put.headers.etag).toBeTruthy();
      expect(JSON.stringify(put.body)).not.toContain(SECRET);
      // Saved, and in force: GET shows them, and a capture arriving now is checked as it comes.
      const view = await request(srv.base).get(`/api/bins/${bin.id}/verify`).expect(200);
      expect(view.body.schemes[0].type).toBe('stripe');
      expect(view.headers.etag).toBe(put.headers.etag);
      await send(bin.url, { headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
      await until(async () => (await statuses(bin.id))[2] === 'valid', 'the new capture checked');
      // The stored ones keep their earlier (no) verdict while the store fails.
      expect((await statuses(bin.id)).slice(0, 2)).toEqual([undefined, undefined]);
      await until(async () => fault.f.failed >= 2, 'a retry'); // tried again in the background
    } finally {
      fault.f.on = false;
    }
    await until(async () => (await statuses(bin.id)).join() === 'valid,invalid,valid', 'the re-check after the fault');
    fault.restore();
  });

  it('DELETE answers 204 and the badges go once the store reads again', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/verify`).send({ schemes: [{ type: 'stripe', secrets: [SECRET] }] }).expect(200);
    await send(bin.url, { body: 'unsigned' });
    await until(async () => (await statuses(bin.id))[0] === 'missing', 'the capture checked');

    const fault = faultyLists();
    try {
      await request(srv.base).delete(`/api/bins/${bin.id}/verify`).expect(204);
      expect((await request(srv.base).get(`/api/bins/${bin.id}/verify`).expect(200)).body.schemes).toEqual([]);
      expect(await statuses(bin.id)).toEqual(['missing']);
    } finally {
      fault.f.on = false;
    }
    await until(async () => (await statuses(bin.id))[0] === undefined, 'the badge dropped');
    fault.restore();
  });
});
