// Issue 16 (and the CLI of issue 10): export a bin as NDJSON (byte-exact) or HAR 1.2 (valid
// per har-validator), import either into a bin keeping order, times, headers and bytes.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';
import hv from 'har-validator';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import { exportLine } from '../helpers/export-line.ts';
import { rawCapture, send, sha256 } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
/** MAX_REQUESTS_PER_BIN 3: which captures an import evicts. */
let small: TestServer;
beforeAll(async () => {
  srv = await startServer();
  small = await startServer({ storage: 'memory', config: { maxRequestsPerBin: 3 } });
});
afterAll(async () => {
  await srv.cleanup();
  await small.cleanup();
});

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

async function exportNdjson(base: string, binId: string): Promise<string> {
  const r = await request(base).get(`/api/bins/${binId}/export`).buffer(true).parse((res, cb) => {
    let t = '';
    res.on('data', (c: Buffer) => (t += c.toString()));
    res.on('end', () => cb(null, t));
  });
  expect(r.status).toBe(200);
  return r.body as string;
}

const importNdjson = (base: string, binId: string, text: string) => request(base).post(`/api/bins/${binId}/import`).set('content-type', 'application/x-ndjson').send(text);


/** Newest first, as the list shows them. */
const listed = async (base: string, binId: string) => ((await request(base).get(`/api/bins/${binId}/requests?limit=500`).expect(200)).body as RequestPage).requests;

/** Raw bytes to a receiver URL (a request Node's client would not send as is); answers the capture id. */

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

  it('HAR: a request that gave no Content-Type comes back without one (the export wrote application/octet-stream for it)', async () => {
    const from = await createBin(srv.base);
    const u = new URL(from.url);
    await rawCapture(srv.base, `DELETE ${u.pathname}/empty HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`);
    await rawCapture(srv.base, `POST ${u.pathname}/bytes HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc`);
    const har = JSON.parse((await request(srv.base).get(`/api/bins/${from.id}/export?format=har`).expect(200)).text);
    await expect(hv.har(har)).resolves.toBeTruthy();
    const to = await createBin(srv.base);
    await request(srv.base).post(`/api/bins/${to.id}/import`).set('content-type', 'application/json').send(JSON.stringify(har)).expect(200);
    const back = await listed(srv.base, to.id);
    expect(back.map((r) => [r.path, r.contentType])).toEqual([
      ['/bytes', null],
      ['/empty', null],
    ]);
  });

  it('HAR imports at once are bounded (MAX_HAR_IMPORTS): one more while they run is a 503 busy with Retry-After; once they end, imports go again', async () => {
    const one = await startServer({ storage: 'memory', config: { maxHarImports: 1 } });
    try {
      const to = await createBin(one.base);
      const har = JSON.stringify({ log: { version: '1.2', creator: { name: 'x', version: '1' }, entries: [] } });
      // The first is held open: its body half sent.
      const u = new URL(one.base);
      const held = net.connect(Number(u.port), u.hostname);
      await new Promise<void>((r) => held.once('connect', () => r()));
      const answer = new Promise<string>((r) => {
        let out = '';
        held.on('data', (d) => (out += d.toString('latin1')));
        held.on('close', () => r(out));
      });
      held.write(`POST /api/bins/${to.id}/import HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${har.length}\r\nConnection: close\r\n\r\n${har.slice(0, 10)}`);
      // Before: a second (and a sixth) read whole at once, ~4x its size in memory each.
      let busy: request.Response | undefined;
      for (let i = 0; i < 100 && busy?.status !== 503; i++) busy = await request(one.base).post(`/api/bins/${to.id}/import`).set('content-type', 'application/json').send(har);
      expect(busy!.status).toBe(503);
      expect(busy!.body.error.code).toBe('busy');
      expect(busy!.body.error.message).toMatch(/MAX_HAR_IMPORTS/);
      expect(busy!.headers['retry-after']).toBe('5');
      // NDJSON is streamed: not counted.
      await importNdjson(one.base, to.id, exportLine()).expect(200);
      held.end(har.slice(10));
      expect(await answer).toMatch(/^HTTP\/1\.1 200 /);
      await request(one.base).post(`/api/bins/${to.id}/import`).set('content-type', 'application/json').send(har).expect(200);
    } finally {
      await one.cleanup();
    }
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

  it('HAR: a form given as postData.params (no text) comes back as its urlencoded body, whole; a multipart one is refused naming the field', async () => {
    const to = await createBin(srv.base);
    const entry = (postData: object, bodySize: number) => ({
      startedDateTime: '2026-01-02T03:04:05.678Z',
      request: { method: 'POST', url: 'https://api.example.com/form', headers: [], postData, bodySize },
    });
    const params = [
      { name: 'a', value: '1' },
      { name: 'b', value: 'caf\u00e9 & co' },
      { name: 'empty' },
    ];
    // Before: an empty body, marked truncated (bodySize was more than the 0 bytes kept).
    await request(srv.base)
      .post(`/api/bins/${to.id}/import`)
      .send({ log: { entries: [entry({ mimeType: 'application/x-www-form-urlencoded; charset=UTF-8', params }, 33)] } })
      .expect(200);
    const [d] = await details(to.id);
    expect(d).toMatchObject({ body: 'a=1&b=caf%C3%A9+%26+co&empty=', truncated: false, size: 29, storedBytes: 29, contentType: 'application/x-www-form-urlencoded; charset=UTF-8' });
    // A multipart form's boundary and parts are not in a HAR: nothing to rebuild it from.
    const multipart = await request(srv.base)
      .post(`/api/bins/${to.id}/import`)
      .send({ log: { entries: [entry({ mimeType: 'multipart/form-data; boundary=x', params }, 100)] } })
      .expect(400);
    expect(multipart.body.error.fields).toEqual([
      {
        field: 'log.entries[0].request.postData.params',
        message: 'gives the body as params without text, which is rebuilt for application/x-www-form-urlencoded only, not "multipart/form-data" (its boundary and parts are not in a HAR): give postData.text',
      },
    ]);
    expect((await details(to.id)).length).toBe(1);
    // Text given with fewer bytes than bodySize: part of the body is not there, so truncated.
    await request(srv.base)
      .post(`/api/bins/${to.id}/import`)
      .send({ log: { entries: [entry({ mimeType: 'text/plain', text: 'abc' }, 10)] } })
      .expect(200);
    expect((await details(to.id))[1]).toMatchObject({ body: 'abc', truncated: true, size: 10 });
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
  it('a body that is no export (XML, a form) is a 415 saying what an import is, not "line 1: not valid JSON"; nothing is added', async () => {
    const to = await createBin(srv.base);
    for (const type of ['application/xml', 'application/x-www-form-urlencoded', 'text/html; charset=utf-8']) {
      const r = await request(srv.base).post(`/api/bins/${to.id}/import`).set('content-type', type).send('<a>1</a>').expect(415);
      expect(r.body.error).toMatchObject({ code: 'unsupported_media_type' });
      expect(r.body.error.message).toBe(`an import is NDJSON (Content-Type: application/x-ndjson, a hooklab export) or a HAR document (application/json), not "${type}"`);
    }
    // What curl or a script may send an export as still works: plain text, bytes, no type.
    const line = exportLine();
    for (const type of ['text/plain', 'application/octet-stream', 'application/jsonl']) {
      await request(srv.base).post(`/api/bins/${to.id}/import`).set('content-type', type).send(line).expect(200);
    }
    expect(((await request(srv.base).get(`/api/bins/${to.id}/requests`)).body as RequestPage).requests).toHaveLength(3);
  });

  it('imported captures get ids as of the import, their order kept and their own times as data: a future receivedAt no longer sorts above later captures', async () => {
    const bin = await createBin(srv.base);
    await send(`${bin.url}/live1`, { body: 'a' });
    const times = ['2999-01-01T00:00:00Z', '2001-01-01T00:00:00Z', '2500-06-01T00:00:00Z'];
    const imp = await importNdjson(srv.base, bin.id, times.map((t, i) => exportLine({ path: `/imp${i}`, receivedAt: t })).join('\n')).expect(200);
    expect(imp.body).toEqual({ imported: 3, evicted: 0 });
    const rows = await listed(srv.base, bin.id);
    expect(rows.map((r) => r.path)).toEqual(['/imp2', '/imp1', '/imp0', '/live1']);
    expect(rows.slice(0, 3).map((r) => r.receivedAt).reverse()).toEqual(times.map((t) => new Date(t).toISOString()));
    // Waiting for what comes after the newest import sees the next live capture.
    const waiting = request(srv.base).get(`/api/bins/${bin.id}/requests/wait?after=${rows[0].id}&timeout=20s`);
    const answered = new Promise<request.Response>((resolve, reject) => waiting.then(resolve, reject));
    await expect.poll(() => srv.app.waiters.size).toBeGreaterThan(0);
    await send(`${bin.url}/live2`, { body: 'b' });
    const got = await answered;
    expect(got.status).toBe(200);
    expect(got.body.path).toBe('/live2');
    expect((await listed(srv.base, bin.id)).map((r) => r.path)).toEqual(['/live2', '/imp2', '/imp1', '/imp0', '/live1']);
  });

  it('an import is activity (idle expiry counts from it, though its captures are old), and a waiting client hears of an imported capture', async () => {
    let t = Date.now();
    const idle = await startServer({ storage: 'memory', config: { binIdleMs: 7 * 86_400_000 }, now: () => t });
    try {
      const bin = await createBin(idle.base);
      t += 6 * 86_400_000; // 6 of its 7 idle days gone
      // Waiting for any capture of the empty bin: an import is one.
      const waiting = request(idle.base).get(`/api/bins/${bin.id}/requests/wait?path=/old&timeout=20s`);
      const answered = new Promise<request.Response>((resolve, reject) => waiting.then(resolve, reject));
      await expect.poll(() => idle.app.waiters.size).toBeGreaterThan(0);
      const before = t;
      await importNdjson(idle.base, bin.id, exportLine({ path: '/old', receivedAt: '2001-01-01T00:00:00Z' })).expect(200);
      const got = await answered;
      expect(got.status).toBe(200); // before: 408, nothing told the waiter
      expect(got.body.path).toBe('/old');
      // Before: its last request was in 2001, so it still expired a day later (7 days from its creation).
      const view = (await request(idle.base).get(`/api/bins/${bin.id}`).expect(200)).body;
      expect(Date.parse(view.idleExpiresAt)).toBeGreaterThanOrEqual(before + 7 * 86_400_000 - 1000);
    } finally {
      await idle.cleanup();
    }
  });

  it('an import into a full bin evicts the oldest arrivals, as captures do, not the captures it adds', async () => {
    const bin = await createBin(small.base);
    await send(`${bin.url}/live1`, { body: 'a' });
    await send(`${bin.url}/live2`, { body: 'b' });
    const imp = await importNdjson(small.base, bin.id, [exportLine({ path: '/old', receivedAt: '2001-01-01T00:00:00Z' }), exportLine({ path: '/older', receivedAt: '2000-01-01T00:00:00Z' })].join('\n')).expect(200);
    expect(imp.body).toEqual({ imported: 2, evicted: 1 });
    expect((await listed(small.base, bin.id)).map((r) => r.path)).toEqual(['/older', '/old', '/live2']);
  });

  it('refuses, as that line\'s 400 invalid_line naming the field, what no replay could send: a method, path or query with a line break, a header name or value a request cannot carry', async () => {
    const to = await createBin(srv.base);
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ method: 'GET /x HTTP/1.1\r\nX: y' }, 'method', /must be an HTTP method/],
      [{ method: 'CONNECT' }, 'method', /cannot be CONNECT/],
      [{ path: '/x\r\nX-Injected: 1' }, 'path', /line breaks/],
      [{ path: '/a b' }, 'path', /spaces/],
      [{ queryString: 'a=1\r\nX: y' }, 'queryString', /line breaks/],
      [{ headers: [['X-A', 'a\r\nX-Injected: 1']] }, 'headers[0][1]', /the value of header "X-A" must not contain CR, LF/],
      [{ headers: [['ok', 'v'], ['X A', 'b']] }, 'headers[1][0]', /header name "X A" must be an HTTP token/],
      [{ headers: [['X-A:', 'b']] }, 'headers[0][0]', /must be an HTTP token/],
      [{ headers: [['', 'b']] }, 'headers[0][0]', /must be an HTTP token/],
      [{ headers: [['X-A', 'a\u0000b']] }, 'headers[0][1]', /control characters/],
      [{ headers: [['X-Euro', '\u20ac']] }, 'headers[0][1]', /beyond Latin-1/],
      // Before: stored, and its raw body then answered 500 (the type cannot be a header).
      [{ contentType: 'text/html\r\nx: y' }, 'contentType', /must be a header value/],
      [{ contentType: '\u263a' }, 'contentType', /beyond Latin-1/],
    ];
    let stored = 0;
    for (const [change, field, why] of cases) {
      const r = await importNdjson(srv.base, to.id, [exportLine({ path: `/ok${stored}` }), exportLine(change), exportLine()].join('\n')).expect(400);
      stored++;
      expect(r.body.error.code, field).toBe('invalid_line');
      expect(r.body.error.field).toBe('line 2');
      expect(r.body.error.message).toMatch(new RegExp(`^line 2: ${field.replace(/[[\]]/g, '\\$&')}: `));
      expect(r.body.error.message).toMatch(why);
      expect(r.body.error.message).toMatch(/\(the 1 capture\(s\) before it were imported\)$/);
      expect((await listed(srv.base, to.id)).length, field).toBe(stored);
    }
  });

  it('any live capture re-imports: obs-text (Latin-1) and tab in header values, odd method, quotes and brackets in the path and query', async () => {
    const from = await createBin(srv.base);
    const u = new URL(srv.base);
    const head =
      `M-SEARCH /h/${from.id}/a"<>{}|\\^\`~!$&'()*+,;=:@[] HTTP/1.1\r\nHost: ${u.host}\r\n` +
      `X-Latin: caf\xe9 \xff\x80\r\nX-Tab: a\tb\r\nX-Quote: "q" \\ <>\r\nX-Empty:\r\nx_under.score~: 1\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi`;
    await rawCapture(srv.base, head);
    await rawCapture(srv.base, `POST /h/${from.id}/q?x="1"&y=<a>&z=%ZZ&w=\` HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    const a = await details(from.id);
    expect(a[0].headers).toContainEqual(['X-Latin', 'caf\u00e9 \u00ff\u0080']);
    expect(a[0].method).toBe('M-SEARCH');
    const to = await createBin(srv.base);
    await importNdjson(srv.base, to.id, await exportNdjson(srv.base, from.id)).expect(200);
    expect((await details(to.id)).map(essence)).toEqual(a.map(essence));
  });

  it('HAR: the same checks (a bad header is a 400 naming it, nothing added); HTTP/2 pseudo-headers of browser HARs are left out', async () => {
    const to = await createBin(srv.base);
    const har = (headers: { name: string; value: string }[], method = 'POST') => ({
      log: {
        entries: [{ startedDateTime: '2026-01-02T03:04:05.678Z', request: { method, url: 'https://api.example.com/hook', headers, postData: { mimeType: 'text/plain', text: 'x' } } }],
      },
    });
    const bad = await request(srv.base).post(`/api/bins/${to.id}/import`).send(har([{ name: 'X-A', value: 'a\r\nX-Injected: 1' }])).expect(400);
    expect(bad.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['log.entries[0].request.headers[0].value']);
    const badMethod = await request(srv.base).post(`/api/bins/${to.id}/import`).send(har([], 'GET /x HTTP/1.1')).expect(400);
    expect(badMethod.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['log.entries[0].request.method']);
    // Before: stored (no Content-Type header, so the mimeType became its type), and its raw body answered 500.
    const badType = har([]);
    badType.log.entries[0].request.postData.mimeType = 'text/html\r\nx: y';
    const badMime = await request(srv.base).post(`/api/bins/${to.id}/import`).send(badType).expect(400);
    expect(badMime.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['log.entries[0].request.postData.mimeType']);
    expect((await details(to.id)).length).toBe(0);
    await request(srv.base)
      .post(`/api/bins/${to.id}/import`)
      .send(har([{ name: ':authority', value: 'api.example.com' }, { name: ':method', value: 'POST' }, { name: 'X-Real', value: '1' }]))
      .expect(200);
    expect((await details(to.id))[0].headers).toEqual([['X-Real', '1']]);
  });

  it('as many headers as a live capture may have (MAX_HEADER_COUNT), and a line or HAR that is not JSON is told where, quoting none of it', async () => {
    const to = await createBin(srv.base);
    const from = await fill();
    const [line] = (await exportNdjson(srv.base, from.id)).trim().split('\n');
    const crowded = JSON.parse(line) as { headers: [string, string][] };
    crowded.headers = Array.from({ length: srv.config.maxHeaderCount + 1 }, (_, i) => [`X-${i}`, 'v']);
    const r = await importNdjson(srv.base, to.id, [line, JSON.stringify(crowded)].join('\n')).expect(400);
    expect(r.body.error.message).toMatch(new RegExp(`^line 2: headers: at most ${srv.config.maxHeaderCount} headers \\(MAX_HEADER_COUNT\\), as a live capture`));
    expect((await details(to.id)).length).toBe(1);

    const har = { log: { entries: [{ startedDateTime: '2026-01-02T03:04:05.678Z', request: { method: 'POST', url: 'https://x.example/h', headers: crowded.headers.map(([name, value]) => ({ name, value })) } }] } };
    const h = await request(srv.base).post(`/api/bins/${to.id}/import`).send(har).expect(400);
    expect(h.body.error.field).toBe('log.entries[0].request.headers');
    expect((await details(to.id)).length).toBe(1);

    const secret = 'whsec_MfKQ9r8GKYqrTwJgPNmfNu6n';
    const notJson = await importNdjson(srv.base, to.id, `{"headers": [["x-signature", ${secret}]]}`).expect(400);
    expect(notJson.body.error.message).toMatch(/^line 1: not valid JSON \(column 30: unexpected character\)/);
    const harNotJson = await request(srv.base).post(`/api/bins/${to.id}/import`).set('content-type', 'application/json').send(`{"secret": ${secret}}`).expect(400);
    expect(harNotJson.body.error.message).toBe('body is not valid JSON (line 1, column 12: unexpected character)');
    for (const x of [notJson, harNotJson]) expect(JSON.stringify(x.body)).not.toContain('whsec');
  });
});
