// Issue 16, server side: settings carry a revision (ETag) and a stale If-Match gets 412 instead
// of a silent overwrite; downloads are named for their content type; UTF-8 header values are
// shown as text while their bytes are kept.
import net from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../shared/api.ts';
import { rawCapture, send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

describe('revisions of settings', () => {
  it('response settings: the ETag follows the settings (not the plan position); a stale If-Match is refused, nothing changes', async () => {
    const bin = await createBin(srv.base);
    const first = await request(srv.base).get(`/api/bins/${bin.id}/response`).expect(200);
    const e0 = first.headers.etag;
    expect(e0).toMatch(/^"[\w-]+"$/);
    // Tab A saves, from the revision it read.
    const a = await request(srv.base).put(`/api/bins/${bin.id}/response`).set('if-match', e0).send({ plan: [{ status: 500, times: 3 }] }).expect(200);
    const e1 = a.headers.etag;
    expect(e1).not.toBe(e0);
    // The plan moving does not change the revision.
    await send(bin.url, { body: 'x' });
    expect((await request(srv.base).get(`/api/bins/${bin.id}/response`)).headers.etag).toBe(e1);
    // Tab B still holds the first revision: its save is refused, A's settings stay.
    const b = await request(srv.base).put(`/api/bins/${bin.id}/response`).set('if-match', e0).send({ default: { status: 201 } }).expect(412);
    expect(b.body.error.code).toBe('precondition_failed');
    const now = (await request(srv.base).get(`/api/bins/${bin.id}/response`).expect(200)).body;
    expect(now.config.plan).toEqual([{ status: 500, times: 3 }]);
    // Without If-Match (scripts), or with *, it writes as before.
    await request(srv.base).put(`/api/bins/${bin.id}/response`).set('if-match', '*').send({ default: { status: 202 } }).expect(200);
    await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ default: { status: 203 } }).expect(200);
  });

  it('webhooks: PATCH and DELETE with a stale If-Match get 412', async () => {
    const bin = await createBin(srv.base);
    const created = await request(srv.base).post('/api/webhooks').send({ url: bin.url }).expect(201);
    const e0 = created.headers.etag;
    expect((await request(srv.base).get(`/api/webhooks/${created.body.id}`)).headers.etag).toBe(e0);
    const renamed = await request(srv.base).patch(`/api/webhooks/${created.body.id}`).set('if-match', e0).send({ name: 'A' }).expect(200);
    expect(renamed.headers.etag).not.toBe(e0);
    await request(srv.base).patch(`/api/webhooks/${created.body.id}`).set('if-match', e0).send({ name: 'B' }).expect(412);
    await request(srv.base).delete(`/api/webhooks/${created.body.id}`).set('if-match', e0).expect(412);
    expect((await request(srv.base).get(`/api/webhooks/${created.body.id}`)).body.name).toBe('A');
    await request(srv.base).delete(`/api/webhooks/${created.body.id}`).set('if-match', renamed.headers.etag).expect(204);
  });

  it("webhooks: the dispatcher's own notes (the failure streak) do not change the revision", async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ default: { status: 500 } }).expect(200);
    const created = await request(srv.base).post('/api/webhooks').send({ url: bin.url, events: ['flow_started'] }).expect(201);
    await request(srv.base).post('/api/runs').send({}).expect(201);
    await expect.poll(async () => (await request(srv.base).get(`/api/webhooks/${created.body.id}`)).body.failing).not.toBeNull(); // the streak moved…
    const after = await request(srv.base).get(`/api/webhooks/${created.body.id}`).expect(200);
    expect(after.headers.etag).toBe(created.headers.etag); // …the settings did not
    await request(srv.base).patch(`/api/webhooks/${created.body.id}`).set('if-match', created.headers.etag).send({ name: 'still mine' }).expect(200);
  });

  it('a request of a deleted bin says the bin is gone, not the request', async () => {
    const bin = await createBin(srv.base);
    const r = await request(srv.base).get(`/api/bins/${bin.id}/requests/nope`).expect(404);
    expect(r.body.error.message).toMatch(/request/);
    await request(srv.base).delete(`/api/bins/${bin.id}`).expect(204);
    const gone = await request(srv.base).get(`/api/bins/${bin.id}/requests/nope`).expect(404);
    expect(gone.body.error.message).toMatch(/bin/);
  });
});

describe('captured requests', () => {
  it('a download is named with the extension of its content type', async () => {
    const bin = await createBin(srv.base);
    const id = (await send(bin.url, { headers: { 'content-type': 'application/json' }, body: '{}' })).headers['x-hooklab-request-id'] as string;
    const r = await request(srv.base).get(`/api/bins/${bin.id}/requests/${id}/raw?download`).expect(200);
    expect(r.headers['content-disposition']).toBe(`attachment; filename="${id}.json"`);
  });

  it('UTF-8 header values read as text; the bytes are kept as sent', async () => {
    const bin = await createBin(srv.base);
    const u = new URL(bin.url);
    // Raw bytes on the wire: "café ✓" in UTF-8, and one Latin-1 byte that is not UTF-8.
    const head = Buffer.concat([
      Buffer.from(`POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nX-Utf8: `),
      Buffer.from('café ✓', 'utf8'),
      Buffer.from('\r\nX-Latin1: '),
      Buffer.from([0x63, 0x61, 0x66, 0xe9]),
      Buffer.from('\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
    ]);
    const answer = await new Promise<string>((resolve) => {
      const s = net.connect(Number(u.port), u.hostname, () => s.end(head));
      let out = '';
      s.on('data', (d) => (out += d.toString('latin1')));
      s.on('close', () => resolve(out));
    });
    const id = /x-hooklab-request-id: (\w+)/i.exec(answer)![1];
    const d = (await request(srv.base).get(`/api/bins/${bin.id}/requests/${id}`).expect(200)).body as RequestDetail;
    expect(d.headers).toContainEqual(['X-Utf8', 'café ✓']);
    expect(d.headers).toContainEqual(['X-Latin1', 'caf\u00e9']);
    // Which is which: the two "é" look alike, and a client sending them on needs the bytes.
    const charset = (name: string) => d.headerCharsets[d.headers.findIndex(([n]) => n === name)];
    expect(d.headerCharsets).toHaveLength(d.headers.length);
    expect([charset('X-Utf8'), charset('X-Latin1'), charset('Host')]).toEqual(['utf8', 'latin1', 'ascii']);
    // Exported as stored: the bytes survive a round trip.
    const line = JSON.parse((await request(srv.base).get(`/api/bins/${bin.id}/export`).buffer(true).parse((res, cb) => {
      let t = '';
      res.on('data', (c: Buffer) => (t += c.toString()));
      res.on('end', () => cb(null, t));
    })).body.trim());
    const raw = line.headers.find(([n]: [string]) => n === 'X-Utf8')[1] as string;
    expect(Buffer.from(raw, 'latin1').equals(Buffer.from('café ✓', 'utf8'))).toBe(true);
  });

  it('trailers say how their values were made text, as headers do', async () => {
    const bin = await createBin(srv.base);
    const u = new URL(bin.url);
    const utf8 = Buffer.from('café', 'utf8').toString('latin1');
    const id = await rawCapture(srv.base, `POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n0\r\nX-A: ${utf8}\r\nX-B: caf\u00e9\r\nX-C: c\r\n\r\n`);
    const d = (await request(srv.base).get(`/api/bins/${bin.id}/requests/${id}`).expect(200)).body as RequestDetail;
    expect(d.trailers).toEqual([
      ['X-A', 'café'],
      ['X-B', 'café'],
      ['X-C', 'c'],
    ]);
    expect(d.trailerCharsets).toEqual(['utf8', 'latin1', 'ascii']);
  });
});
