// Issue 16 (and the CLI of issue 10): export a bin as NDJSON (byte-exact) or HAR 1.2 (valid
// per har-validator), import either into a bin keeping order, times, headers and bytes.
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import hv from 'har-validator';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import { send, sha256 } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

const bodies = [
  Buffer.from('{"event":"sync_end","status":"FAILED"}'),
  randomBytes(3000), // binary
  zlib.gzipSync(Buffer.from('{"compressed":true}')),
  Buffer.alloc(0),
  Buffer.from('a=1&b=caf\u00e9'),
];

async function fill() {
  const bin = await createBin(srv.base);
  await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ plan: [{ status: 500 }] }).expect(200);
  for (const [i, body] of bodies.entries()) {
    await send(`${bin.url}/p${i}?x=${i}&x=again`, {
      method: i === 3 ? 'GET' : 'POST',
      headers: [
        ['X-Mixed-Case', `v${i}`],
        ['x-repeat', 'one'],
        ['x-repeat', 'two'],
        ...(i === 2 ? ([['Content-Encoding', 'gzip']] as [string, string][]) : []),
      ],
      body: i === 3 ? undefined : body,
    });
  }
  return bin;
}

async function details(binId: string): Promise<RequestDetail[]> {
  const page = (await request(srv.base).get(`/api/bins/${binId}/requests?limit=500`).expect(200)).body as RequestPage;
  const out: RequestDetail[] = [];
  for (const r of [...page.requests].reverse()) out.push((await request(srv.base).get(`/api/bins/${binId}/requests/${r.id}`).expect(200)).body);
  return out;
}

const bytesOf = (d: RequestDetail) => Buffer.from(d.body, d.bodyEncoding === 'base64' ? 'base64' : 'utf8');
const essence = (d: RequestDetail) => ({ method: d.method, path: d.path, queryString: d.queryString, headers: d.headers, receivedAt: d.receivedAt, sha: sha256(bytesOf(d)), status: d.status });

describe('export and import', () => {
  it('NDJSON round trip: same order, times, headers and bytes (sha256 of every body)', async () => {
    const from = await fill();
    const r = await request(srv.base).get(`/api/bins/${from.id}/export?format=ndjson`).buffer(true).parse((res, cb) => {
      let t = '';
      res.on('data', (c: Buffer) => (t += c.toString()));
      res.on('end', () => cb(null, t));
    });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/application\/x-ndjson/);
    expect(r.headers['content-disposition']).toMatch(new RegExp(`attachment; filename="${from.id}-.*\\.ndjson"`));
    const lines = (r.body as string).trim().split('\n');
    expect(lines).toHaveLength(bodies.length);
    const to = await createBin(srv.base);
    const imp = await request(srv.base).post(`/api/bins/${to.id}/import`).set('content-type', 'application/x-ndjson').send(r.body as string).expect(200);
    expect(imp.body).toEqual({ imported: bodies.length, evicted: 0 });
    const a = await details(from.id);
    const b = await details(to.id);
    expect(b.map(essence)).toEqual(a.map(essence));
    expect(b.map((d) => sha256(bytesOf(d)))).toEqual(bodies.map((x) => sha256(x)));
  });

  it('HAR export is valid HAR 1.2 (har-validator) and imports back byte-exact', async () => {
    const from = await fill();
    const r = await request(srv.base).get(`/api/bins/${from.id}/export?format=har`).expect(200);
    const har = JSON.parse(r.text);
    await expect(hv.har(har)).resolves.toBeTruthy();
    expect(har.log.entries).toHaveLength(bodies.length);
    expect(har.log.entries[0].request.headers.slice(1, 4)).toEqual([
      { name: 'X-Mixed-Case', value: 'v0' },
      { name: 'x-repeat', value: 'one' },
      { name: 'x-repeat', value: 'two' },
    ]);
    expect(har.log.entries[0].response.status).toBe(500);
    // One request, for "Copy as HAR".
    const one = JSON.parse((await request(srv.base).get(`/api/bins/${from.id}/export?format=har&ids=${har.log.entries[1]._hooklab.id}`).expect(200)).text);
    expect(one.log.entries).toHaveLength(1);
    await expect(hv.har(one)).resolves.toBeTruthy();

    const to = await createBin(srv.base);
    await request(srv.base).post(`/api/bins/${to.id}/import`).set('content-type', 'application/json').send(r.text).expect(200);
    const a = await details(from.id);
    const b = await details(to.id);
    expect(b.map(essence)).toEqual(a.map(essence));
  });

  it('a HAR from another tool imports too (paths from the URL, text bodies)', async () => {
    const to = await createBin(srv.base);
    const har = {
      log: {
        version: '1.2',
        creator: { name: 'other', version: '1' },
        entries: [
          {
            startedDateTime: '2026-01-02T03:04:05.678Z',
            time: 1,
            request: { method: 'post', url: 'https://api.example.com/webhooks/github?x=1', httpVersion: 'HTTP/1.1', cookies: [], headers: [{ name: 'X-GitHub-Event', value: 'push' }], queryString: [], postData: { mimeType: 'application/json', text: '{"ref":"main"}' }, headersSize: -1, bodySize: 14 },
            response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', cookies: [], headers: [], content: { size: 0, mimeType: '' }, redirectURL: '', headersSize: -1, bodySize: -1 },
            cache: {},
            timings: { send: 0, wait: 0, receive: 0 },
          },
        ],
      },
    };
    await request(srv.base).post(`/api/bins/${to.id}/import`).send(har).expect(200);
    const [d] = await details(to.id);
    expect(d).toMatchObject({ method: 'POST', path: '/webhooks/github', queryString: 'x=1', receivedAt: '2026-01-02T03:04:05.678Z', body: '{"ref":"main"}', status: 200 });
    expect(d.headers).toEqual([['X-GitHub-Event', 'push']]);
  });

  it('bad input: a bad NDJSON line stops the import there and says how many came before; a bad HAR adds nothing', async () => {
    const to = await createBin(srv.base);
    const from = await fill();
    const lines = (await request(srv.base).get(`/api/bins/${from.id}/export`).buffer(true).parse((res, cb) => {
      let t = '';
      res.on('data', (c: Buffer) => (t += c.toString()));
      res.on('end', () => cb(null, t));
    })).body.trim().split('\n');
    const broken = [lines[0], lines[1], '{"method":"POST","path":"nope"}', lines[2]].join('\n');
    const r = await request(srv.base).post(`/api/bins/${to.id}/import`).set('content-type', 'application/x-ndjson').send(broken).expect(400);
    expect(r.body.error.code).toBe('invalid_line');
    expect(r.body.error.message).toMatch(/^line 3: .*path: must start with "\/".*\(the 2 capture\(s\) before it were imported\)/);
    expect((await details(to.id)).length).toBe(2);
    const bad = await request(srv.base).post(`/api/bins/${to.id}/import`).send({ log: { entries: [{ startedDateTime: 'yesterday' }] } }).expect(400);
    expect(bad.body.error.fields.map((f: { field: string }) => f.field)).toContain('log.entries[0].startedDateTime');
    expect((await details(to.id)).length).toBe(2);
  });
});
