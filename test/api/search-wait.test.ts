// Issues 10 and 16: search a bin server-side (method, sub-path, status, header, text in the
// body, with paging; the idempotency key of issue 14), and the wait API for test scripts: a
// capture matching X (already there or yet to come), a delivery reaching a state; timeouts are
// 408; gone clients free waiters.
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CliError } from '../../server/cli/client.ts';
import { wait } from '../../server/cli/commands/wait.ts';
import type { Delivery, RequestDetail, RequestPage } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  // 100 waits at once from this one client (see "a client that goes away frees its waiter").
  srv = await startServer({ config: { waitMaxWaitersPerIp: 200 } });
});
afterAll(() => srv.cleanup());

const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
const ids = (p: RequestPage) => p.requests.map((r) => r.id);

describe('search', () => {
  it('filters by method, sub-path, status (exact or class), header and body text, with paging', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ rules: [{ status: 500, match: { pathPrefix: '/fail' } }] }).expect(200);
    const a = idOf(await send(`${bin.url}/hooks/a`, { headers: { 'X-GitHub-Event': 'push', 'content-type': 'application/json' }, body: '{"action":"Opened"}' }));
    const b = idOf(await send(`${bin.url}/hooks/b`, { method: 'PUT', headers: { 'x-github-event': 'issues' }, body: 'plain text' }));
    const c = idOf(await send(`${bin.url}/fail`, { headers: { 'x-github-event': 'push' }, body: 'nothing' }));
    const d = idOf(await send(`${bin.url}/hooks/d`, { body: 'OPENED again' }));
    const q = async (qs: string) => (await request(srv.base).get(`/api/bins/${bin.id}/requests?${qs}`).expect(200)).body as RequestPage;
    expect(ids(await q('method=put'))).toEqual([b]);
    expect(ids(await q('path=/hooks'))).toEqual([d, b, a]);
    expect(ids(await q('status=500'))).toEqual([c]);
    expect(ids(await q('status=2xx'))).toEqual([d, b, a]);
    expect(ids(await q('header=x-github-event'))).toEqual([c, b, a]);
    expect(ids(await q('header=X-GitHub-Event:push'))).toEqual([c, a]);
    expect(ids(await q('header=x-github-event:push&header=content-type:application/json'))).toEqual([a]);
    expect(ids(await q('q=opened'))).toEqual([d, a]);
    expect(ids(await q('q=opened&path=/hooks&method=POST'))).toEqual([d, a]);
    // A sub-path without its leading "/" means the same (it matched nothing).
    expect(ids(await q('path=hooks'))).toEqual([d, b, a]);
    // Paging over the matches: one at a time, newest first.
    const p1 = await q('path=/hooks&limit=1');
    expect(ids(p1)).toEqual([d]);
    const p2 = await q(`path=/hooks&limit=1&before=${p1.nextBefore}`);
    expect(ids(p2)).toEqual([b]);
    const p3 = await q(`path=/hooks&limit=1&before=${p2.nextBefore}`);
    expect(ids(p3)).toEqual([a]);
    expect(p3.nextBefore).toBeNull();
    // Bad filters: every one named.
    const bad = await request(srv.base).get(`/api/bins/${bin.id}/requests?status=600&limit=0`).expect(400);
    expect(bad.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['limit', 'status']);
  });

  it('finds text as the detail shows it: a gzip body decoded, a Latin-1 or UTF-16 text, a form\'s decoded fields; and the wait API the same', async () => {
    const bin = await createBin(srv.base);
    const gz = idOf(await send(`${bin.url}/gz`, { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync('{"event":"compressed"}') }));
    const form = idOf(await send(`${bin.url}/form`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=Jos%C3%A9+Mar%C3%ADa&n=2990' }));
    const latin = idOf(await send(`${bin.url}/latin`, { headers: { 'content-type': 'text/plain; charset=ISO-8859-1' }, body: Buffer.from('Caf\xe9 cr\xe8me', 'latin1') }));
    const utf16 = idOf(await send(`${bin.url}/utf16`, { headers: { 'content-type': 'text/plain; charset=utf-16le' }, body: Buffer.from('Grüße aus Köln', 'utf16le') }));
    // A body too big to decode within MAX_DECODED_BYTES is searched as stored (no match, no error).
    const bomb = idOf(await send(`${bin.url}/bomb`, { headers: { 'content-encoding': 'gzip' }, body: gzipSync(Buffer.alloc(9 * 1024 * 1024, 'compressed ')) }));
    const q = async (qs: string) => ids((await request(srv.base).get(`/api/bins/${bin.id}/requests?${qs}`).expect(200)).body as RequestPage);
    // Before: each of these found nothing (only the bytes read as UTF-8 were searched).
    expect(await q('q=compressed')).toEqual([gz]);
    expect(await q(`q=${encodeURIComponent('josé maría')}`)).toEqual([form]);
    expect(await q(`q=${encodeURIComponent('CAFÉ')}`)).toEqual([latin]);
    expect(await q(`q=${encodeURIComponent('köln')}`)).toEqual([utf16]);
    // The raw bytes still count: the form as sent, the encoded name.
    expect(await q(`q=${encodeURIComponent('Jos%C3%A9')}`)).toEqual([form]);
    expect(bomb).toBeTruthy();
    // Search decodes at most 1 MiB (SEARCH_DECODE_MAX_BYTES): past it, the body is searched as stored.
    const under = idOf(await send(`${bin.url}/under`, { headers: { 'content-encoding': 'gzip' }, body: gzipSync(`${'x'.repeat(1024 * 1024 - 16)}needle-under`) }));
    await send(`${bin.url}/over`, { headers: { 'content-encoding': 'gzip' }, body: gzipSync(`${'x'.repeat(1024 * 1024 + 16)}needle-over`) });
    expect(await q('q=needle-under')).toEqual([under]);
    expect(await q('q=needle-over')).toEqual([]);

    const waiting = request(srv.base).get(`/api/bins/${bin.id}/requests/wait?q=unzipped&after=${bomb}&timeout=30s`);
    const pending = waiting.then((r) => r);
    await new Promise((r) => setTimeout(r, 200));
    await send(`${bin.url}/plain`, { body: 'not this one' });
    const live = idOf(await send(`${bin.url}/gz2`, { headers: { 'content-encoding': 'gzip' }, body: gzipSync('now unzipped') }));
    const got = await pending;
    expect(got.status).toBe(200);
    expect((got.body as RequestDetail).id).toBe(live);
  });

  it('filters by idempotency key (exact; with the other filters and paging), and the wait API waits for one', async () => {
    const bin = await createBin(srv.base);
    const a1 = idOf(await send(`${bin.url}/hooks`, { headers: { 'webhook-id': 'msg_k1' }, body: 'one' }));
    const b = idOf(await send(`${bin.url}/hooks`, { headers: { 'webhook-id': 'msg_k2' }, body: 'two' }));
    const a2 = idOf(await send(`${bin.url}/other`, { headers: { 'webhook-id': 'msg_k1' }, body: 'one' }));
    await send(`${bin.url}/hooks`, { body: 'msg_k1 in the body only' });
    const a3 = idOf(await send(`${bin.url}/hooks`, { headers: { 'svix-id': 'msg_k1' }, body: 'one' }));
    const q = async (qs: string) => (await request(srv.base).get(`/api/bins/${bin.id}/requests?${qs}`).expect(200)).body as RequestPage;
    const all = await q('key=msg_k1');
    expect(ids(all)).toEqual([a3, a2, a1]);
    expect(all.requests.map((r) => r.idempotencyKey)).toEqual(['msg_k1', 'msg_k1', 'msg_k1']);
    expect(all.nextBefore).toBeNull();
    expect(ids(await q('key=msg_k2'))).toEqual([b]);
    // Exact: not a prefix, not case-insensitive, not text in the body.
    expect(ids(await q('key=msg_k'))).toEqual([]);
    expect(ids(await q('key=MSG_K1'))).toEqual([]);
    expect(ids(await q('key=msg_k1&path=/hooks'))).toEqual([a3, a1]);
    expect(ids(await q('key=msg_k1&q=one&method=post'))).toEqual([a3, a2, a1]);
    const p1 = await q('key=msg_k1&limit=2');
    expect(ids(p1)).toEqual([a3, a2]);
    const p2 = await q(`key=msg_k1&limit=2&before=${p1.nextBefore}`);
    expect(ids(p2)).toEqual([a1]);
    expect(p2.nextBefore).toBeNull();
    // The detail's group and the search agree.
    const d = (await request(srv.base).get(`/api/bins/${bin.id}/requests/${a2}`).expect(200)).body as RequestDetail;
    expect(d.idempotency).toMatchObject({ key: 'msg_k1', attempt: 2, attempts: 3 });
    expect(d.sameKey).toEqual([a1, a3]);
    // An empty key is refused, not taken as "no filter".
    const bad = await request(srv.base).get(`/api/bins/${bin.id}/requests?key=`).expect(400);
    expect(bad.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['key']);

    // Waiting: a stored match answers at once; one yet to come, past others with other keys.
    let r = await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?key=msg_k2`).expect(200);
    expect((r.body as RequestDetail).id).toBe(b);
    const pending = request(srv.base)
      .get(`/api/bins/${bin.id}/requests/wait?key=msg_k3&timeout=20s`)
      .then((x) => x);
    await new Promise((res) => setTimeout(res, 100));
    await send(`${bin.url}/hooks`, { headers: { 'webhook-id': 'msg_k1' }, body: 'one again' });
    await send(`${bin.url}/hooks`, { body: 'msg_k3' });
    const want = idOf(await send(`${bin.url}/hooks`, { headers: { 'x-github-delivery': 'msg_k3' }, body: 'three' }));
    r = await pending;
    expect(r.status).toBe(200);
    expect((r.body as RequestDetail).id).toBe(want);
    expect((r.body as RequestDetail).idempotencyKey).toBe('msg_k3');
  });
});

describe('wait for a request', () => {
  it('answers at once with the oldest stored match after `after`', async () => {
    const bin = await createBin(srv.base);
    const first = idOf(await send(`${bin.url}/x`, { body: 'one' }));
    const second = idOf(await send(`${bin.url}/x`, { body: 'two' }));
    let r = await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?path=/x`).expect(200);
    expect((r.body as RequestDetail).id).toBe(first);
    r = await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?path=/x&after=${first}`).expect(200);
    expect((r.body as RequestDetail).id).toBe(second);
    expect((r.body as RequestDetail).body).toBe('two');
  });

  it('a cursor that is no capture id (a word, an arrival number) is a 400 on its field, not a wait that times out or a list of nothing', async () => {
    const bin = await createBin(srv.base);
    await send(`${bin.url}/x`, { body: 'one' });
    for (const [path, field] of [
      [`/api/bins/${bin.id}/requests/wait?after=garbage&timeout=10s`, 'after'],
      [`/api/bins/${bin.id}/requests?after=42`, 'after'],
      [`/api/bins/${bin.id}/requests?before=nonsense`, 'before'],
    ]) {
      const r = await request(srv.base).get(path).expect(400);
      expect(r.body.error).toMatchObject({ field, message: expect.stringContaining('must be a capture id') });
    }
  });

  it('waits for a match yet to come, ignoring ones that do not match', async () => {
    const bin = await createBin(srv.base);
    const waiting = request(srv.base).get(`/api/bins/${bin.id}/requests/wait?method=POST&header=x-kind:order&timeout=20s`);
    const pending = waiting.then((r) => r);
    await new Promise((r) => setTimeout(r, 100));
    await send(`${bin.url}/a`, { headers: { 'x-kind': 'noise' }, body: 'no' });
    const want = idOf(await send(`${bin.url}/b`, { headers: { 'x-kind': 'order' }, body: 'yes' }));
    const r = await pending;
    expect(r.status).toBe(200);
    expect((r.body as RequestDetail).id).toBe(want);
  });

  it('times out with 408, and a client that goes away frees its waiter', async () => {
    const bin = await createBin(srv.base);
    const r = await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?q=never&timeout=200ms`);
    expect(r.status).toBe(408);
    expect(r.body.error.code).toBe('timeout');
    // A bare number is refused, saying the unit is wanted (it was taken for milliseconds: an
    // instant 408 for a `timeout=30` meant as seconds); so on the delivery wait.
    for (const url of [`/api/bins/${bin.id}/requests/wait?timeout=30`, '/api/deliveries/nope/wait?timeout=30']) {
      const bare = await request(srv.base).get(url);
      expect(bare.status, url).toBe(400);
      expect(bare.body.error).toMatchObject({ code: 'invalid_field', field: 'timeout', message: 'timeout: must be a duration with its unit, such as 30s, 500ms or 2m' });
      // An hour has its unit: it is told the longest wait (it was told it had no unit).
      const hour = await request(srv.base).get(url.replace('timeout=30', 'timeout=1h'));
      expect(hour.body.error, url).toMatchObject({ field: 'timeout', message: 'timeout: must be at most 600 s' });
      // So is one past 2^53 ms, or too long for a number at all (it got zod's own words, "Too big: expected int to be <=9007199254740991").
      for (const huge of ['99999999999999999999s', `${'9'.repeat(400)}ms`]) {
        const long = await request(srv.base).get(url.replace('timeout=30', `timeout=${huge}`));
        expect({ status: long.status, error: long.body.error }, url).toMatchObject({ status: 400, error: { field: 'timeout', message: 'timeout: must be at most 600 s' } });
      }
    }
    // 100 idle waiters, then their clients go.
    const u = new URL(srv.base);
    const reqs = Array.from({ length: 100 }, () => {
      const req = http.get({ host: u.hostname, port: u.port, path: `/api/bins/${bin.id}/requests/wait?q=never&timeout=60s` });
      req.on('error', () => {});
      return req;
    });
    for (let i = 0; i < 100 && srv.app.waiters.size < 100; i++) await new Promise((res) => setTimeout(res, 20));
    expect(srv.app.waiters.size).toBe(100);
    for (const req of reqs) req.destroy();
    for (let i = 0; i < 100 && srv.app.waiters.size > 0; i++) await new Promise((res) => setTimeout(res, 20));
    expect(srv.app.waiters.size).toBe(0);
  });
});

describe('a wait with a short timeout', () => {
  it('searches what is stored in full first: a stored match is found however short the timeout (hooklab wait asks once more at its end with what is left)', async () => {
    const bin = await createBin(srv.base);
    for (let i = 0; i < 3; i++) await send(`${bin.url}/fill`, { body: `hay ${i}` });
    const match = idOf(await send(`${bin.url}/last`, { body: 'a needle' }));
    // A search slower than the timeout (a large bin on a slow disk, Redis far away): each read of stored captures takes 30 ms.
    const items = srv.store.requests.items.bind(srv.store.requests);
    srv.store.requests.items = async (...a: Parameters<typeof items>) => {
      await new Promise((r) => setTimeout(r, 30));
      return items(...a);
    };
    try {
      for (const t of ['1ms', '5ms']) {
        const r = await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?q=needle&timeout=${t}`);
        expect([r.status, r.body.id]).toEqual([200, match]);
      }
      // Nothing stored matches: still the 408, once the search is done.
      const none = await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?q=haystack&timeout=1ms`);
      expect([none.status, none.body.error?.code]).toEqual([408, 'timeout']);
    } finally {
      srv.store.requests.items = items;
    }
    expect(srv.app.waiters.size).toBe(0);
  });
});

describe('filters no request can match', () => {
  it('a method or header name no request can have is a 400 on its field, not a filter that matches nothing (a wait would time out)', async () => {
    const bin = await createBin(srv.base);
    for (const base of [`/api/bins/${bin.id}/requests?`, `/api/bins/${bin.id}/requests/wait?timeout=1s&`]) {
      const method = await request(srv.base).get(`${base}method=BAD%20METHOD`);
      expect([method.status, method.body.error.field, method.body.error.message]).toEqual([400, 'method', expect.stringMatching(/must be an HTTP method/)]);
      for (const h of [':v', 'x%20y:1']) {
        const header = await request(srv.base).get(`${base}header=${h}`);
        expect([header.status, header.body.error.field]).toEqual([400, 'header']);
        expect(header.body.error.message).toMatch(/the name an HTTP header name/);
      }
    }
    const cli = await wait({ server: srv.base, token: null }, bin.id, { method: 'BAD METHOD', timeout: '1s' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect([(cli as CliError).code, (cli as CliError).message]).toEqual([2, expect.stringMatching(/^--method: must be an HTTP method/)]);
  });
});

describe('wait for a request: the bin deleted, proxy mode', () => {
  it('a bin deleted while a wait is on answers it 404 at once (not at its timeout), and frees its waiter', async () => {
    const bin = await createBin(srv.base);
    const before = srv.app.waiters.size;
    const waiting = request(srv.base).get(`/api/bins/${bin.id}/requests/wait?timeout=10m`).then((r) => r);
    await expect.poll(() => srv.app.waiters.size).toBe(before + 1);
    await request(srv.base).delete(`/api/bins/${bin.id}`).expect(204);
    const r = await waiting;
    expect(r.status).toBe(404);
    // Its own code, so a script tells it from a wrong id.
    expect(r.body.error).toMatchObject({ code: 'bin_deleted', message: 'the bin was deleted while this wait was on' });
    expect(srv.app.waiters.size).toBe(before);
    // And a wait on a bin already gone: not_found.
    const gone = await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?timeout=10m`);
    expect(gone.status).toBe(404);
    expect(gone.body.error).toMatchObject({ code: 'not_found', message: 'bin not found' });
  });

  it('hooklab wait on a bin deleted while it waits: exit 3 saying so (a wrong id stays exit 2)', async () => {
    const bin = await createBin(srv.base);
    const conn = { server: srv.base, token: null };
    const before = srv.app.waiters.size;
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const waiting = wait(conn, bin.id, { timeout: '5m' }).then(
        () => null,
        (e: unknown) => e,
      );
      await expect.poll(() => srv.app.waiters.size).toBe(before + 1);
      await request(srv.base).delete(`/api/bins/${bin.id}`).expect(204);
      const e = await waiting;
      expect(e).toBeInstanceOf(CliError);
      expect([(e as CliError).code, (e as CliError).message]).toEqual([3, `bin ${bin.id} was deleted while waited for`]);
      const wrong = await wait(conn, bin.id, { timeout: '5m' }).then(
        () => null,
        (x: unknown) => x,
      );
      expect([(wrong as CliError).code, (wrong as CliError).message]).toEqual([2, `there is no bin ${bin.id} on ${conn.server}`]);
    } finally {
      err.mockRestore();
    }
  });

  it("proxy mode: a wait hears of a capture once the target's answer is known, so a status filter matches what the sender got", async () => {
    const target = http.createServer((_req, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('down'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    try {
      const bin = await createBin(srv.base);
      const url = `http://127.0.0.1:${(target.address() as { port: number }).port}/t`;
      await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url }], answerWith: 'target' }).expect(200);
      const failed = request(srv.base).get(`/api/bins/${bin.id}/requests/wait?status=5xx&timeout=20s`).then((r) => r);
      const any = request(srv.base).get(`/api/bins/${bin.id}/requests/wait?timeout=20s`).then((r) => r);
      await expect.poll(() => srv.app.waiters.wants(bin.id)).toBe(true);
      const sent = await send(`${bin.url}/p`, { body: 'x' });
      expect(sent.status).toBe(503);
      for (const r of [await failed, await any]) {
        expect(r.status).toBe(200);
        const d = r.body as RequestDetail;
        expect(d.id).toBe(idOf(sent));
        expect(d.status).toBe(503);
        expect(d.forwards).toHaveLength(1);
        expect(d.forwards[0]).toMatchObject({ kind: 'proxy', status: 503 });
      }
    } finally {
      target.closeAllConnections();
      target.close();
    }
  });
});

describe('wait for a request: proxy mode, the wait begun while the target works', () => {
  it('a capture stored before the wait, its target still working: the wait takes it once answered, with the status the sender got', async () => {
    const held: http.ServerResponse[] = [];
    const target = http.createServer((_req, res) => void held.push(res));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    try {
      const bin = await createBin(srv.base);
      const url = `http://127.0.0.1:${(target.address() as { port: number }).port}/t`;
      await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url }], answerWith: 'target' }).expect(200);
      const sent = send(`${bin.url}/p`, { body: 'x' });
      await expect.poll(() => held.length).toBe(1);
      // Stored, its answer pending: listed with status null.
      const listed = (await request(srv.base).get(`/api/bins/${bin.id}/requests`).expect(200)).body.requests;
      expect(listed.map((r: { status: number | null }) => r.status)).toEqual([null]);
      const any = request(srv.base).get(`/api/bins/${bin.id}/requests/wait?timeout=20s`).then((r) => r);
      const failed = request(srv.base).get(`/api/bins/${bin.id}/requests/wait?status=503&timeout=20s`).then((r) => r);
      await expect.poll(() => srv.app.waiters.size).toBeGreaterThanOrEqual(2);
      held[0].writeHead(503).end('down');
      expect((await sent).status).toBe(503);
      for (const r of [await any, await failed]) {
        expect(r.status).toBe(200);
        expect((r.body as RequestDetail).status).toBe(503);
        expect((r.body as RequestDetail).id).toBe(listed[0].id);
      }
    } finally {
      target.closeAllConnections();
      target.close();
    }
  });
});

describe('wait for a request: a delayed answer', () => {
  it('a status filter counts a capture once its delayed answer went, never one whose sender hung up first (nor does a search); other filters take it at once', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ default: { status: 201, delayMs: 1500 } }).expect(200);
    const list = async (qs = '') => ((await request(srv.base).get(`/api/bins/${bin.id}/requests?${qs}`).expect(200)).body as RequestPage).requests;
    const base = srv.app.waiters.size;
    const byStatus = request(srv.base).get(`/api/bins/${bin.id}/requests/wait?status=2xx&timeout=30s`).then((r) => ({ r, at: Date.now() }));
    await expect.poll(() => srv.app.waiters.size).toBe(base + 1);
    const byPath = request(srv.base).get(`/api/bins/${bin.id}/requests/wait?path=/gone&timeout=30s`).then((r) => r);
    await expect.poll(() => srv.app.waiters.size).toBe(base + 2);
    // A sender that gives up after 300 ms: it never gets the 201.
    await expect(send(`${bin.url}/gone`, { body: 'a', timeoutMs: 300 })).rejects.toThrow('client timeout');
    // A wait without a status filter has it at once.
    const gone = await byPath;
    expect(gone.status).toBe(200);
    const goneId = (gone.body as RequestDetail).id;
    await expect.poll(async () => (await list())[0]?.answer.hungUpAfterMs).toBeGreaterThanOrEqual(0);
    // A sender that waits gets its 201 after 1.5 s: the status wait takes that one, once sent.
    const sentAt = Date.now();
    const ok = await send(`${bin.url}/ok`, { body: 'b' });
    expect(ok.status).toBe(201);
    const { r, at } = await byStatus;
    expect(r.status).toBe(200);
    expect((r.body as RequestDetail).id).toBe(idOf(ok));
    expect(at - sentAt).toBeGreaterThanOrEqual(1000); // before: at once, 1.5 s before the sender had it
    // A search by status lists only what senders got.
    expect((await list('status=2xx')).map((x) => x.id)).toEqual([idOf(ok)]);
    expect((await list('status=201')).map((x) => x.id)).toEqual([idOf(ok)]);
    expect((await list()).map((x) => x.id)).toEqual([idOf(ok), goneId]);
    // A wait begun while a delayed answer is on its way: taken once it went, not from the store at once.
    const thirdSentAt = Date.now();
    const third = send(`${bin.url}/late`, { body: 'c' });
    await expect.poll(async () => (await list()).length).toBe(3);
    const late = await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?status=201&after=${idOf(ok)}&timeout=30s`);
    const lateAt = Date.now();
    expect(late.status).toBe(200);
    expect((late.body as RequestDetail).id).toBe(idOf(await third));
    expect(lateAt - thirdSentAt).toBeGreaterThanOrEqual(1000);
  });
});

describe('wait for a request: a delayed answer still to go, past its due time', () => {
  it('the receiver says which delayed answers it has yet to send, and a status wait leaves those to their answer', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ default: { status: 201, delayMs: 800 } }).expect(200);
    const sent = send(`${bin.url}/d`, { body: 'x' });
    let id = '';
    await expect.poll(async () => (id = ((await request(srv.base).get(`/api/bins/${bin.id}/requests`)).body as RequestPage).requests[0]?.id ?? '')).not.toBe('');
    expect(srv.app.waiters.answerDelayed(id)).toBe(true);
    expect((await sent).status).toBe(201);
    await expect.poll(() => srv.app.waiters.answerDelayed(id)).toBe(false);
    // As if its answer had yet to go though its due time has passed (its delay began late:
    // the capture waited for the disk): a status wait does not take it from the store.
    srv.app.waiters.delaying(id, true);
    try {
      expect((await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?status=201&timeout=300ms`)).status).toBe(408);
      expect((await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?timeout=300ms`)).status).toBe(200);
    } finally {
      srv.app.waiters.delaying(id, false);
    }
    const w = await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?status=201&timeout=300ms`);
    expect(w.status).toBe(200);
    expect((w.body as RequestDetail).id).toBe(id);
  });
});

describe('wait for a request: answers in id order, so a loop of after= cursors sees each capture once', () => {
  /** A proxy target that holds requests to /t/slow until released (answering `slowStatus`), answers the rest 200 at once. */
  async function proxiedBin(slowStatus = 200) {
    const held: http.ServerResponse[] = [];
    const target = http.createServer((req, res) => {
      if (req.url?.startsWith('/t/slow')) held.push(res);
      else res.writeHead(200).end('ok');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const bin = await createBin(srv.base);
    const url = `http://127.0.0.1:${(target.address() as { port: number }).port}/t`;
    await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url }], answerWith: 'target' }).expect(200);
    return {
      bin,
      held,
      release: () => held.splice(0).forEach((r) => r.writeHead(slowStatus).end('late')),
      close: () => {
        target.closeAllConnections();
        target.close();
      },
    };
  }
  const waitFor = (binId: string, qs: string) => request(srv.base).get(`/api/bins/${binId}/requests/wait?${qs}`).then((r) => r);

  it('proxy mode: a capture whose target is still at it comes before a newer one answered first; the next cursor gets the newer one', async () => {
    const p = await proxiedBin();
    try {
      const slow = send(`${p.bin.url}/slow`, { body: 'a' });
      await expect.poll(() => p.held.length).toBe(1);
      const fast = await send(`${p.bin.url}/fast`, { body: 'b' });
      expect(fast.status).toBe(200);
      let answered = false;
      const first = waitFor(p.bin.id, 'timeout=20s').then((r) => ((answered = true), r));
      await new Promise((r) => setTimeout(r, 500));
      expect(answered).toBe(false); // held by the older capture, not answered with the newer
      p.release();
      const slowId = idOf(await slow);
      const r1 = await first;
      expect([r1.status, (r1.body as RequestDetail).id]).toEqual([200, slowId]);
      const r2 = await waitFor(p.bin.id, `after=${slowId}&timeout=5s`);
      expect([r2.status, (r2.body as RequestDetail).id]).toEqual([200, idOf(fast)]);
    } finally {
      p.close();
    }
  });

  it('with status=: an older capture answered otherwise lets the wait go on to the newer match', async () => {
    const p = await proxiedBin(500);
    try {
      const slow = send(`${p.bin.url}/slow`, { body: 'a' });
      await expect.poll(() => p.held.length).toBe(1);
      const fast = await send(`${p.bin.url}/fast`, { body: 'b' });
      const ok = waitFor(p.bin.id, 'status=200&timeout=20s');
      const failed = waitFor(p.bin.id, 'status=500&timeout=20s');
      await expect.poll(() => srv.app.waiters.wants(p.bin.id)).toBe(true);
      p.release();
      expect((await slow).status).toBe(500);
      const [r1, r2] = [await ok, await failed];
      expect([r1.status, (r1.body as RequestDetail).id]).toEqual([200, idOf(fast)]);
      expect([r2.status, (r2.body as RequestDetail).id]).toEqual([200, idOf(await slow)]);
    } finally {
      p.close();
    }
  });

  it('an older capture still unanswered when the timeout comes: the newer match is answered then, not a 408', async () => {
    const p = await proxiedBin();
    try {
      void send(`${p.bin.url}/slow`, { body: 'a' }).catch(() => {});
      await expect.poll(() => p.held.length).toBe(1);
      const fast = await send(`${p.bin.url}/fast`, { body: 'b' });
      const r = await waitFor(p.bin.id, 'timeout=1s');
      expect([r.status, (r.body as RequestDetail).id]).toEqual([200, idOf(fast)]);
    } finally {
      p.release();
      p.close();
    }
  });

  it('a slow bin with status=: the delayed answer comes first, then the next cursor gets the quick one', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ rules: [{ status: 200, delayMs: 1500, match: { pathPrefix: '/slow' } }] }).expect(200);
    const slow = send(`${bin.url}/slow`, { body: 'a' });
    await expect.poll(async () => ((await request(srv.base).get(`/api/bins/${bin.id}/requests`)).body as RequestPage).requests.length).toBe(1);
    const fast = await send(`${bin.url}/fast`, { body: 'b' });
    const r1 = await waitFor(bin.id, 'status=200&timeout=20s');
    const slowId = idOf(await slow);
    expect([r1.status, (r1.body as RequestDetail).id]).toEqual([200, slowId]);
    const r2 = await waitFor(bin.id, `status=200&after=${slowId}&timeout=5s`);
    expect([r2.status, (r2.body as RequestDetail).id]).toEqual([200, idOf(fast)]);
  });
});

describe('wait for a delivery', () => {
  it('answers when the delivery is delivered; 409 when it ended otherwise; 408 on timeout', async () => {
    const ok = await createBin(srv.base);
    const failing = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${failing.id}/response`).send({ default: { status: 500 } }).expect(200);
    await json(srv.base, 'PUT', '/api/clock', { paused: true });
    const good = (await request(srv.base).post('/api/webhooks').send({ url: ok.url, events: ['flow_started'] }).expect(201)).body;
    await request(srv.base).post('/api/runs').send({}).expect(201);
    const [d] = (await json<{ deliveries: Delivery[] }>(srv.base, 'GET', `/api/deliveries?webhookId=${good.id}`)).body.deliveries;
    const r = await request(srv.base).get(`/api/deliveries/${d.id}/wait?state=delivered&timeout=10s`).expect(200);
    expect((r.body as Delivery).state).toBe('delivered');
    await request(srv.base).delete(`/api/webhooks/${good.id}`).expect(204);

    const bad = (await request(srv.base).post('/api/webhooks').send({ url: failing.url, events: ['flow_started'] }).expect(201)).body;
    await request(srv.base).post('/api/runs').send({}).expect(201);
    const [f] = (await json<{ deliveries: Delivery[] }>(srv.base, 'GET', `/api/deliveries?webhookId=${bad.id}`)).body.deliveries;
    const t = await request(srv.base).get(`/api/deliveries/${f.id}/wait?state=delivered&timeout=200ms`);
    expect(t.status).toBe(408);
    // Fast-forward through its whole schedule while a client waits for "delivered".
    const waiting = request(srv.base).get(`/api/deliveries/${f.id}/wait?state=delivered&timeout=20s`).then((x) => x);
    await new Promise((res) => setTimeout(res, 100));
    await json(srv.base, 'POST', '/api/clock/advance', { ms: 86_400_000 });
    const e = await waiting;
    expect(e.status).toBe(409);
    expect(e.body.error.code).toBe('ended');
    expect((await request(srv.base).get(`/api/deliveries/${f.id}/wait?state=failed`).expect(200)).body.state).toBe('failed');
  });
});
