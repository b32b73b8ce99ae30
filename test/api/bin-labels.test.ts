// Issue 16: where a bin's list rows take their label from (`labelFrom`) is part of the bin:
// set on create or with PATCH (next to the name), read back by GET and the list, every bad
// source named at once, and a change told to the bin's other tabs (bin:updated).
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../shared/api.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { collect, connect, subscribe } from '../helpers/socket.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

const create = async (body: object = {}) => (await request(srv.base).post('/api/bins').send(body).expect(201)).body as Bin;

describe('bin labelFrom', () => {
  it('is absent by default, set by PATCH, read back by GET and the list, and cleared by [] or null', async () => {
    const b = await create({ name: 'stripe' });
    expect(b).not.toHaveProperty('labelFrom');
    const sources = ['json:data.object.type', 'header:X-Event-Type', 'json:items.0.kind'];
    const patched = (await request(srv.base).patch(`/api/bins/${b.id}`).send({ labelFrom: sources }).expect(200)).body as Bin;
    expect(patched).toMatchObject({ name: 'stripe', labelFrom: sources });
    expect((await request(srv.base).get(`/api/bins/${b.id}`).expect(200)).body.labelFrom).toEqual(sources);
    const listed = ((await request(srv.base).get('/api/bins').expect(200)).body.bins as Bin[]).find((x) => x.id === b.id)!;
    expect(listed.labelFrom).toEqual(sources);
    // A rename alone leaves the sources; both at once set both.
    expect((await request(srv.base).patch(`/api/bins/${b.id}`).send({ name: 'renamed' }).expect(200)).body).toMatchObject({ name: 'renamed', labelFrom: sources });
    expect((await request(srv.base).patch(`/api/bins/${b.id}`).send({ name: 'both', labelFrom: ['json:type'] }).expect(200)).body).toMatchObject({ name: 'both', labelFrom: ['json:type'] });
    for (const clear of [[], null]) {
      await request(srv.base).patch(`/api/bins/${b.id}`).send({ labelFrom: ['json:type'] }).expect(200);
      const r = (await request(srv.base).patch(`/api/bins/${b.id}`).send({ labelFrom: clear }).expect(200)).body;
      expect(r).not.toHaveProperty('labelFrom');
      expect((await request(srv.base).get(`/api/bins/${b.id}`).expect(200)).body).not.toHaveProperty('labelFrom');
    }
  });

  it('can be given when the bin is made', async () => {
    const b = await create({ name: 'gh', labelFrom: ['header:x-github-event'] });
    expect(b.labelFrom).toEqual(['header:x-github-event']);
    expect((await request(srv.base).get(`/api/bins/${b.id}`).expect(200)).body.labelFrom).toEqual(['header:x-github-event']);
    const bad = await request(srv.base).post('/api/bins').send({ labelFrom: ['event'] }).expect(400);
    expect(bad.body.error.fields).toEqual([{ field: 'labelFrom[0]', message: 'must start with json: or header:' }]);
  });

  it('names every bad field at once, and changes nothing', async () => {
    const b = await create({ name: 'keep', labelFrom: ['json:type'] });
    const r = await request(srv.base)
      .patch(`/api/bins/${b.id}`)
      .send({ name: 7, labelFrom: ['json:ok', 'type', 'json:', 'header:two words', 5, `json:${'a'.repeat(200)}`] })
      .expect(400);
    expect(r.body.error.code).toBe('invalid_field');
    expect(r.body.error.field).toBe('name');
    expect(r.body.error.fields).toEqual([
      { field: 'name', message: 'must be a string' },
      { field: 'labelFrom[1]', message: 'must start with json: or header:' },
      { field: 'labelFrom[2]', message: 'needs a path after "json:" (e.g. json:data.object.type)' },
      { field: 'labelFrom[3]', message: 'is not a valid header name' },
      { field: 'labelFrom[4]', message: 'must be a string' },
      { field: 'labelFrom[5]', message: 'must be at most 200 characters' },
    ]);
    expect(r.body.error.message).toContain('labelFrom[1]: must start with json: or header:');
    const many = await request(srv.base).patch(`/api/bins/${b.id}`).send({ labelFrom: Array.from({ length: 11 }, (_, i) => `json:a${i}`) }).expect(400);
    expect(many.body.error.fields).toEqual([{ field: 'labelFrom', message: 'at most 10 entries' }]);
    const notList = await request(srv.base).patch(`/api/bins/${b.id}`).send({ labelFrom: 'json:type', extra: 1 }).expect(400);
    expect(notList.body.error.fields).toEqual([
      { field: 'labelFrom', message: 'must be a list' },
      { field: 'extra', message: 'unknown field (allowed: name, labelFrom)' },
    ]);
    expect((await request(srv.base).get(`/api/bins/${b.id}`).expect(200)).body).toMatchObject({ name: 'keep', labelFrom: ['json:type'] });
  });

  it("a change is told to the bin's subscribers as bin:updated", async () => {
    const b = await create({ name: 'live' });
    const s = await connect(srv.base);
    try {
      expect((await subscribe(s, b.id)).ok).toBe(true);
      const got = collect(s, 'bin:updated');
      await request(srv.base).patch(`/api/bins/${b.id}`).send({ labelFrom: ['json:data.object.type'] }).expect(200);
      expect((await got.until(1))[0]).toMatchObject({ id: b.id, name: 'live', labelFrom: ['json:data.object.type'] });
      await request(srv.base).patch(`/api/bins/${b.id}`).send({ labelFrom: [] }).expect(200);
      const [, cleared] = await got.until(2);
      expect(cleared.id).toBe(b.id);
      expect(cleared).not.toHaveProperty('labelFrom');
    } finally {
      s.disconnect();
    }
  });
});
