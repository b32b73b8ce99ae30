// Issue 2: bins as a resource.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.ts';
import { send } from '../helpers/http.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

describe('bins API', () => {
  it('health answers 200 once ready', async () => {
    const r = await request(srv.base).get('/api/health').expect(200);
    expect(r.body.ok).toBe(true);
  });

  it('creates a bin with an unguessable id and an absolute receiver URL from PUBLIC_URL', async () => {
    const r = await request(srv.base).post('/api/bins').send({ name: 'stripe test' }).expect(201);
    expect(r.body.id).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(r.body.url).toBe(`${srv.config.publicUrl}/h/${r.body.id}`);
    expect(r.body.name).toBe('stripe test');
    expect(r.headers.location).toBe(`/api/bins/${r.body.id}`);
    const again = await request(srv.base).post('/api/bins').expect(201);
    expect(again.body.id).not.toBe(r.body.id);
  });

  it('takes a chosen id (a slug): 409 when it is taken, 400 naming the field when it is not URL-safe, two at once get one each', async () => {
    const r = await request(srv.base).post('/api/bins').send({ id: 'orders-staging-api' }).expect(201);
    expect(r.body.url).toBe(`${srv.config.publicUrl}/h/orders-staging-api`);
    const taken = await request(srv.base).post('/api/bins').send({ id: 'orders-staging-api' }).expect(409);
    expect(taken.body.error.message).toMatch(/"orders-staging-api" (already )?exists/);
    const bad = await request(srv.base).post('/api/bins').send({ id: 'no/slash' }).expect(400);
    expect(bad.body.error.field).toBe('id');
    // The CLI would read it as an option (before: 201, and `hooklab wait -x…` failed).
    const dash = await request(srv.base).post('/api/bins').send({ id: '-leading-dash' }).expect(400);
    expect(dash.body.error.field).toBe('id');
    expect(dash.body.error.message).toMatch(/must not start with "-"/);
    await request(srv.base).post('/api/bins').send({ id: 'inner-dash-ok_' }).expect(201);
    const both = await Promise.all([1, 2].map(() => request(srv.base).post('/api/bins').send({ id: 'raced-slug-xyz' })));
    expect(both.map((x) => x.status).sort()).toEqual([201, 409]);
  });

  it('a chosen id differing only in letter case from a bin\'s is taken too (each names a directory under DATA_DIR: one on a case-insensitive disk)', async () => {
    await request(srv.base).post('/api/bins').send({ id: 'Case-Twin-Slug' }).expect(201);
    const twin = await request(srv.base).post('/api/bins').send({ id: 'case-twin-slug' }).expect(409);
    expect(twin.body.error).toMatchObject({ code: 'bin_exists', field: 'id', message: expect.stringContaining('a bin with id "Case-Twin-Slug" exists already: bin ids are told apart regardless of letter case') });
    await request(srv.base).get('/api/bins/case-twin-slug').expect(404);
    // Once it is gone, the other case is free.
    await request(srv.base).delete('/api/bins/Case-Twin-Slug').expect(204);
    await request(srv.base).post('/api/bins').send({ id: 'case-twin-slug' }).expect(201);
  });

  it('uses PUBLIC_URL for receiver URLs', async () => {
    const s = await startServer({ storage: 'memory', config: { publicUrl: 'https://hooks.example.com' } });
    try {
      const r = await request(s.base).post('/api/bins').expect(201);
      expect(r.body.url).toBe(`https://hooks.example.com/h/${r.body.id}`);
    } finally {
      await s.cleanup();
    }
  });

  it('lists, reads, renames and deletes', async () => {
    const a = (await request(srv.base).post('/api/bins').send({ name: 'a' }).expect(201)).body;
    await send(a.url, { body: 'x' });
    const list = (await request(srv.base).get('/api/bins').expect(200)).body.bins as { id: string }[];
    expect(list[0].id).toBe(a.id); // newest first
    const one = (await request(srv.base).get(`/api/bins/${a.id}`).expect(200)).body;
    expect(one.requestCount).toBe(1);
    expect(one.lastRequestAt).toBeTruthy();
    const renamed = (await request(srv.base).patch(`/api/bins/${a.id}`).send({ name: 'renamed' }).expect(200)).body;
    expect(renamed.name).toBe('renamed');
    await request(srv.base).delete(`/api/bins/${a.id}`).expect(204);
    await request(srv.base).get(`/api/bins/${a.id}`).expect(404);
    expect((await send(a.url, { body: 'x' })).status).toBe(404);
  });

  it('rejects bad input with a 400 naming the field and changes nothing', async () => {
    const a = (await request(srv.base).post('/api/bins').send({ name: 'keep' }).expect(201)).body;
    const r1 = await request(srv.base).patch(`/api/bins/${a.id}`).send({ name: 42 }).expect(400);
    expect(r1.body.error.field).toBe('name');
    const r2 = await request(srv.base).post('/api/bins').send({ nmae: 'typo' }).expect(400);
    expect(r2.body.error.field).toBe('nmae');
    const r3 = await request(srv.base).patch(`/api/bins/${a.id}`).set('content-type', 'application/json').send('{"name":').expect(400);
    expect(r3.body.error.code).toBe('invalid_json');
    expect((await request(srv.base).get(`/api/bins/${a.id}`).expect(200)).body.name).toBe('keep');
  });

  it('unknown bins and routes are 404 JSON', async () => {
    const r = await request(srv.base).get('/api/bins/nope').expect(404);
    expect(r.body.error.code).toBe('not_found');
    await request(srv.base).get('/api/nothing-here').expect(404);
  });

  it('enforces MAX_BINS', async () => {
    const s = await startServer({ storage: 'memory', config: { maxBins: 2 } });
    try {
      await request(s.base).post('/api/bins').expect(201);
      await request(s.base).post('/api/bins').expect(201);
      const r = await request(s.base).post('/api/bins').expect(409);
      expect(r.body.error.code).toBe('too_many_bins');
    } finally {
      await s.cleanup();
    }
  });
});
