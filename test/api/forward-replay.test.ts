// Issue 13, server side: forward targets on a bin (validated, loops refused), replays of a
// capture (as captured or edited) and of a whole bin, stored with the capture; signed requests
// still verify at the target with the senders' own libraries; hostile targets are contained.
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { Webhooks as OctokitWebhooks } from '@octokit/webhooks';
import request from 'supertest';
import Stripe from 'stripe';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForwardRecord, ReplayJob, RequestDetail } from '../../shared/api.ts';
import { MAX_REPLAY_JOBS } from '../../shared/schema/forward.ts';
import { SEE_CAPTURE } from '../../server/capture/proxy-answer.ts';
import { REPLAY_STOPPED } from '../../server/forward/replay-jobs.ts';
import { send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { createBin, startServer, tempDir, type TestServer } from '../helpers/server.ts';
import { collectUpdates, connect, subscribe } from '../helpers/socket.ts';

// GitHub's own library, as a sender signs and a receiver checks.
const ghSign = (secret: string, payload: string) => new OctokitWebhooks({ secret }).sign(payload);
const ghVerify = (secret: string, payload: string, signature: string) => new OctokitWebhooks({ secret }).verify(payload, signature);

interface Got {
  method: string;
  url: string;
  headers: string[];
  body: Buffer;
}

let srv: TestServer;
let target: http.Server;
let targetBase = '';
const got: Got[] = [];
/** How the target answers the next requests: default 200 "thanks". */
let behave: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_q, res) => res.end('thanks');

beforeAll(async () => {
  srv = await startServer();
  target = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ method: req.method!, url: req.url!, headers: req.rawHeaders, body: Buffer.concat(chunks) });
      behave(req, res);
    });
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetBase = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
});
afterAll(async () => {
  target.closeAllConnections();
  target.close();
  await srv.cleanup();
});

const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
const header = (flat: string[], name: string) => flat[flat.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === name) + 1];
const detail = async (binId: string, id: string) => (await request(srv.base).get(`/api/bins/${binId}/requests/${id}`).expect(200)).body as RequestDetail;

describe('forward settings', () => {
  it('are validated (at most 10, http(s), no loop into hooklab itself), read back, and turned off', async () => {
    const bin = await createBin(srv.base);
    const api = request(srv.base);
    expect((await api.get(`/api/bins/${bin.id}/forward`).expect(200)).body).toEqual({ targets: [], answerWith: 'bin' });
    const bad = await api
      .put(`/api/bins/${bin.id}/forward`)
      .send({ targets: [{ url: `${targetBase}/ok` }, { url: `${srv.base}/h/${bin.id}` }, { url: 'ftp://x' }] })
      .expect(400);
    // Every problem at once: the loop (targets[1]) next to the schema's (targets[2]).
    expect(bad.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['targets[1].url', 'targets[2].url']);
    expect(bad.body.error.fields[0].message).toMatch(/would loop/);
    const loop = await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${srv.base}/h/${bin.id}` }] }).expect(400);
    expect(loop.body.error).toMatchObject({ field: 'targets[0].url' });
    expect(loop.body.error.message).toMatch(/own receiver URLs: forwarding there would loop/);
    await api.put(`/api/bins/${bin.id}/forward`).send({ targets: Array.from({ length: 11 }, (_, i) => ({ url: `${targetBase}/t${i}` })) }).expect(400);
    // The same target twice: every capture would go there twice.
    const twice = await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/a` }, { url: `${targetBase}/b` }, { url: `${targetBase}/a` }] }).expect(400);
    expect(twice.body.error).toMatchObject({ field: 'targets[2].url', message: 'targets[2].url: is targets[0] again: each capture would be sent there twice' });
    const ok = await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/hooks` }], answerWith: 'target' }).expect(200);
    expect(ok.body).toEqual({ targets: [{ url: `${targetBase}/hooks` }], answerWith: 'target' });
    await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [] }).expect(200);
    expect((await api.get(`/api/bins/${bin.id}/forward`)).body.targets).toEqual([]);
  });

  it('proxy mode without a target is refused on answerWith (it was stored as "bin" without a word); no targets otherwise still turns forwarding off', async () => {
    const bin = await createBin(srv.base);
    const api = request(srv.base);
    await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/kept` }] }).expect(200);
    const bad = await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [], answerWith: 'target' }).expect(400);
    expect(bad.body.error).toMatchObject({
      code: 'invalid_field',
      field: 'answerWith',
      fields: [{ field: 'answerWith', message: 'proxy mode (answerWith: target) needs at least one target: the first target answers the sender' }],
    });
    // Refused means nothing stored: the target set before is still there.
    expect((await api.get(`/api/bins/${bin.id}/forward`).expect(200)).body).toEqual({ targets: [{ url: `${targetBase}/kept` }], answerWith: 'bin' });
    await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [], answerWith: 'bin' }).expect(200);
    expect((await api.get(`/api/bins/${bin.id}/forward`)).body).toEqual({ targets: [], answerWith: 'bin' });
    await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/p` }], answerWith: 'target' }).expect(200);
    await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [] }).expect(200);
    expect((await api.get(`/api/bins/${bin.id}/forward`)).body).toEqual({ targets: [], answerWith: 'bin' });
    await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/p` }], answerWith: 'target' }).expect(200);
    await api.delete(`/api/bins/${bin.id}/forward`).expect(204);
    expect((await api.get(`/api/bins/${bin.id}/forward`)).body).toEqual({ targets: [], answerWith: 'bin' });
  });

  it('DELETE honours If-Match: a stale ETag gets 412 and the targets stay', async () => {
    const bin = await createBin(srv.base);
    const api = request(srv.base);
    const first = await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/one` }] }).expect(200);
    await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/two` }] }).expect(200);
    await api.delete(`/api/bins/${bin.id}/forward`).set('if-match', first.headers.etag).expect(412);
    expect((await api.get(`/api/bins/${bin.id}/forward`)).body.targets).toEqual([{ url: `${targetBase}/two` }]);
    const cur = await api.get(`/api/bins/${bin.id}/forward`);
    await api.delete(`/api/bins/${bin.id}/forward`).set('if-match', cur.headers.etag).expect(204);
  });

  it('a target that leads back in under a name the check does not know is stopped at the first hop (508, recorded as a loop)', async () => {
    const bin = await createBin(srv.base);
    const port = new URL(srv.base).port;
    // An IPv4-mapped IPv6 address: this server, under a name not on its list of origins.
    const sneaky = [`http://[::ffff:127.0.0.1]:${port}/h/${bin.id}`, `http://[::ffff:127.0.0.1]:${port}/h/${bin.id}/again`];
    await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: sneaky.map((url) => ({ url })) }).expect(200);
    const id = idOf(await send(`${bin.url}/once`, { body: 'x' }));
    let d: RequestDetail | undefined;
    await expect
      .poll(async () => {
        d = await detail(bin.id, id);
        return d.forwards.length;
      })
      .toBe(2);
    for (const f of d!.forwards) expect(f).toMatchObject({ status: 508, error: 'loop' });
    expect(d!.forwards[0].errorDetail).toMatch(/led back into this hooklab/);
    // Nothing came back in: the bin holds the one capture, however long we wait.
    await new Promise((r) => setTimeout(r, 300));
    const list = (await request(srv.base).get(`/api/bins/${bin.id}/requests`).expect(200)).body.requests;
    expect(list.map((r: { id: string }) => r.id)).toEqual([id]);
  });
});

describe('replay', () => {
  it('sends a capture again byte-exact (signatures made by the senders\' libraries still verify), edited when asked, and stores each result', async () => {
    const bin = await createBin(srv.base);
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const payload = JSON.stringify({ type: 'invoice.paid', data: { id: 'in_1' } });
    const msgId = 'msg_2Yh';
    const ts = new Date();
    const sig = new StandardWebhook(secret).sign(msgId, ts, payload);
    const stripeHeader = Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_stripe_test' });
    const ghSecret = 'gh-secret';
    const ghHeader = await ghSign(ghSecret, payload);
    const id = idOf(
      await send(`${bin.url}/github?x=1`, {
        headers: [
          ['Content-Type', 'application/json'],
          ['webhook-id', msgId],
          ['webhook-timestamp', String(Math.floor(ts.getTime() / 1000))],
          ['webhook-signature', sig],
          ['Stripe-Signature', stripeHeader],
          ['X-Hub-Signature-256', ghHeader],
        ],
        body: payload,
      }),
    );
    got.length = 0;
    const r = await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({ url: `${targetBase}/app` }).expect(200);
    expect(r.body.records).toHaveLength(1);
    expect(r.body.records[0]).toMatchObject({ kind: 'replay', status: 200, body: 'thanks', edited: false, url: `${targetBase}/app/github?x=1` });
    const g = got[0];
    expect(g.url).toBe('/app/github?x=1');
    expect(g.body.toString()).toBe(payload);
    // The receivers' own libraries accept it.
    const h = Object.fromEntries(Array.from({ length: g.headers.length / 2 }, (_, i) => [g.headers[2 * i].toLowerCase(), g.headers[2 * i + 1]]));
    expect(new StandardWebhook(secret).verify(g.body.toString(), h)).toEqual(JSON.parse(payload));
    expect(Stripe.webhooks.constructEvent(g.body.toString(), h['stripe-signature'], 'whsec_stripe_test').type).toBe('invoice.paid');
    expect(await ghVerify(ghSecret, g.body.toString(), h['x-hub-signature-256'])).toBe(true);

    // Edited: another method, path, headers and body.
    await request(srv.base)
      .post(`/api/bins/${bin.id}/requests/${id}/replay`)
      .send({ url: targetBase, method: 'PUT', path: '/edited', queryString: '', headers: [['X-Edited', 'yes']], body: 'AAEC', bodyEncoding: 'base64' })
      .expect(200);
    const e = got[1];
    expect({ method: e.method, url: e.url, body: [...e.body] }).toEqual({ method: 'PUT', url: '/edited', body: [0, 1, 2] });
    expect(header(e.headers, 'x-edited')).toBe('yes');
    const d = await detail(bin.id, id);
    expect(d.forwards.map((f: ForwardRecord) => [f.kind, f.edited, f.method])).toEqual([
      ['replay', false, 'POST'],
      ['replay', true, 'PUT'],
    ]);
  });

  it('an edited replay with a method or header that cannot be sent is refused: 400 on the field, naming the header; nothing sent or stored', async () => {
    const bin = await createBin(srv.base);
    const id = idOf(await send(`${bin.url}/e`, { body: 'x' }));
    const TOKEN_RULE = "a token of letters, digits and !#$%&'*+-.^_`|~";
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ method: 'GE T' }, 'method', new RegExp(`^must be an HTTP method: ${TOKEN_RULE.replace(/[$^*+.|]/g, '\\$&')}`)],
      [{ method: 'A\r\nB' }, 'method', /^must be an HTTP method/],
      // A tunnel cannot be replayed (any case: it is sent upper-cased).
      [{ method: 'connect' }, 'method', /^cannot be CONNECT: it asks the target for a tunnel/],
      [{ headers: [['Content-Type', 'text/plain'], ['X-Ok', 'a'], ['X Bad Name', 'v']] }, 'headers[2][0]', /^header name "X Bad Name" must be an HTTP token/],
      [{ headers: [['X-Split', 'a\r\nX-Injected: 1']] }, 'headers[0][1]', /^the value of header "X-Split" must not contain CR, LF, NUL/],
      [{ headers: [['X-Nul', 'a\u0000b']] }, 'headers[0][1]', /^the value of header "X-Nul" must not contain/],
    ];
    got.length = 0;
    for (const [input, field, message] of cases) {
      const r = await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({ url: targetBase, ...input }).expect(400);
      expect(r.body.error, JSON.stringify(input)).toMatchObject({ code: 'invalid_field', field, fields: [{ field, message: expect.stringMatching(message) }] });
    }
    expect(got).toHaveLength(0);
    expect((await detail(bin.id, id)).forwards).toEqual([]);
    // What can be sent still is: another token method, Latin-1 and a tab in a value.
    const ok = await request(srv.base)
      .post(`/api/bins/${bin.id}/requests/${id}/replay`)
      .send({ url: targetBase, method: 'propfind', headers: [['X-Fine', 'caf\u00e9\tok']] })
      .expect(200);
    // Written as sent: the method goes out upper-case, and the record says so.
    expect(ok.body.records[0]).toMatchObject({ status: 200, error: null, method: 'PROPFIND' });
    expect(got.map((g) => [g.method, header(g.headers, 'x-fine')])).toEqual([['PROPFIND', 'caf\u00e9\tok']]);
  });

  it('a replay to a port nothing listens on records where (error refused, the detail not a repeat of it)', async () => {
    const bin = await createBin(srv.base);
    const id = idOf(await send(`${bin.url}/down`, { body: 'x' }));
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const r = await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({ url: `http://127.0.0.1:${port}/t` }).expect(200);
    expect(r.body.records[0]).toMatchObject({ status: null, error: 'refused', errorDetail: `nothing listens at 127.0.0.1:${port}` });
    expect((await detail(bin.id, id)).forwards[0]).toMatchObject({ error: 'refused', errorDetail: `nothing listens at 127.0.0.1:${port}` });
  });

  it("a replay to the bin's own URL makes a new capture there; without a URL it goes to the bin's targets", async () => {
    const bin = await createBin(srv.base);
    const id = idOf(await send(`${bin.url}/first`, { body: 'one' }));
    await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({ url: bin.url }).expect(200);
    const list = (await request(srv.base).get(`/api/bins/${bin.id}/requests`)).body.requests;
    expect(list.map((x: { path: string }) => x.path)).toEqual(['/first', '/first']);
    const noUrl = await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({}).expect(400);
    // The field's message without its name, as every other field's (a form shows "url: …" itself).
    expect(noUrl.body.error).toMatchObject({ field: 'url', message: 'url: is required (this bin has no forward targets)', fields: [{ field: 'url', message: 'is required (this bin has no forward targets)' }] });
    await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/t1` }, { url: `${targetBase}/t2` }] }).expect(200);
    got.length = 0;
    const r = await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({}).expect(200);
    expect(r.body.records.map((x: ForwardRecord) => x.url)).toEqual([`${targetBase}/t1/first`, `${targetBase}/t2/first`]);
  });

  it("a target URL's trailing slash is kept for a capture at the bin root; a sub-path is joined to it with one slash", async () => {
    const bin = await createBin(srv.base);
    const root = idOf(await send(bin.url, { body: 'root' }));
    const rootQuery = idOf(await send(`${bin.url}?x=1`, { body: 'root' }));
    const sub = idOf(await send(`${bin.url}/a`, { body: 'sub' }));
    const replay = async (id: string, url: string) =>
      ((await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({ url }).expect(200)).body.records[0] as ForwardRecord).url;
    got.length = 0;
    expect(await replay(root, `${targetBase}/hooks/`)).toBe(`${targetBase}/hooks/`);
    expect(await replay(rootQuery, `${targetBase}/hooks/`)).toBe(`${targetBase}/hooks/?x=1`);
    expect(await replay(sub, `${targetBase}/hooks/`)).toBe(`${targetBase}/hooks/a`);
    expect(await replay(root, `${targetBase}/hooks`)).toBe(`${targetBase}/hooks`);
    expect(await replay(sub, `${targetBase}/hooks`)).toBe(`${targetBase}/hooks/a`);
    expect(got.map((g) => g.url)).toEqual(['/hooks/', '/hooks/?x=1', '/hooks/a', '/hooks', '/hooks/a']);

    // A forward target the same way.
    await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/fw/` }] }).expect(200);
    got.length = 0;
    const fRoot = idOf(await send(bin.url, { body: 'fwd root' }));
    const fSub = idOf(await send(`${bin.url}/b?y=2`, { body: 'fwd sub' }));
    for (const id of [fRoot, fSub]) await expect.poll(async () => (await detail(bin.id, id)).forwards.length).toBe(1);
    expect((await detail(bin.id, fRoot)).forwards[0]).toMatchObject({ status: 200, url: `${targetBase}/fw/` });
    expect((await detail(bin.id, fSub)).forwards[0]).toMatchObject({ status: 200, url: `${targetBase}/fw/b?y=2` });
    expect(got.map((g) => g.url).sort()).toEqual(['/fw/', '/fw/b?y=2']);
  });

  it("a replay to the bin's own URL under a name hooklab does not know ([::ffff:127.0.0.1]) makes a new capture there, not a loop", async () => {
    const bin = await createBin(srv.base);
    const id = idOf(await send(`${bin.url}/orig`, { body: 'one' }));
    const url = `http://[::ffff:127.0.0.1]:${new URL(srv.base).port}/h/${bin.id}`;
    const rec = (await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({ url }).expect(200)).body.records[0] as ForwardRecord;
    expect(rec).toMatchObject({ kind: 'replay', status: 200, error: null, url: `${new URL(url).origin}/h/${bin.id}/orig` });
    const list = (await request(srv.base).get(`/api/bins/${bin.id}/requests`).expect(200)).body.requests;
    expect(list.map((r: { path: string }) => r.path)).toEqual(['/orig', '/orig']);
  });

  it('a whole bin, in arrival order, with progress', async () => {
    const bin = await createBin(srv.base);
    for (let i = 0; i < 20; i++) await send(`${bin.url}/n${i}`, { body: String(i) });
    got.length = 0;
    const job = (await request(srv.base).post(`/api/bins/${bin.id}/replay`).send({ url: targetBase }).expect(202)).body;
    expect(job).toMatchObject({ total: 20, state: 'running' });
    let now = job;
    for (let i = 0; i < 200 && now.state !== 'finished'; i++) {
      await new Promise((r) => setTimeout(r, 25));
      now = (await request(srv.base).get(`/api/replays/${job.id}`).expect(200)).body;
    }
    expect(now).toMatchObject({ state: 'finished', done: 20, failed: 0, non2xx: 0 });
    expect(got.map((x) => x.url)).toEqual(Array.from({ length: 20 }, (_, i) => `/n${i}`));
  });

  it('a bulk replay counts the captures answered outside 2xx (non2xx) apart from those with no answer (failed), each once', async () => {
    const bin = await createBin(srv.base);
    for (let i = 0; i < 6; i++) await send(`${bin.url}/s${i}`, { body: String(i) });
    // /s1 and /s3 answer 500, /s4 301 (not followed, an answer all the same), /s5 resets.
    behave = (req, res) => {
      if (req.url!.endsWith('/s5')) return req.socket.destroy();
      res.statusCode = /\/s[13]$/.test(req.url!) ? 500 : req.url!.endsWith('/s4') ? 301 : 200;
      res.end('x');
    };
    try {
      const job = (await request(srv.base).post(`/api/bins/${bin.id}/replay`).send({ url: targetBase }).expect(202)).body as ReplayJob;
      expect(job.non2xx).toBe(0);
      await expect.poll(async () => ((await request(srv.base).get(`/api/replays/${job.id}`).expect(200)).body as ReplayJob).state).toBe('finished');
      const end = (await request(srv.base).get(`/api/replays/${job.id}`).expect(200)).body as ReplayJob;
      expect(end).toMatchObject({ done: 6, failed: 1, non2xx: 3 });
    } finally {
      behave = (_q, res) => res.end('thanks');
    }
  });

  it('hostile targets: a redirect is not followed, a reset and an endless body are recorded, and the allow-list holds', async () => {
    const bin = await createBin(srv.base);
    const id = idOf(await send(bin.url, { body: 'x' }));
    const replay = async () => (await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({ url: targetBase }).expect(200)).body.records[0] as ForwardRecord;
    behave = (_q, res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' });
      res.end();
    };
    got.length = 0;
    expect(await replay()).toMatchObject({ status: 302, error: null });
    expect(got).toHaveLength(1); // and nothing followed
    behave = (q) => q.socket.destroy();
    expect(await replay()).toMatchObject({ status: null, error: 'reset' });
    behave = (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 97);
      const more = () => {
        while (res.write(chunk));
        res.once('drain', more);
      };
      more();
      res.on('close', () => res.removeAllListeners('drain'));
    };
    const endless = await replay();
    expect(endless).toMatchObject({ status: 200, bodyTruncated: true });
    expect(endless.body.length).toBe(65_536);
    behave = (_q, res) => res.end('thanks');

    const strict = await startServer({ config: { dispatchAllow: ['example.invalid'] } });
    try {
      const b2 = await createBin(strict.base);
      const id2 = idOf(await send(b2.url, { body: 'x' }));
      got.length = 0;
      const rec = (await request(strict.base).post(`/api/bins/${b2.id}/requests/${id2}/replay`).send({ url: targetBase }).expect(200)).body.records[0];
      expect(rec).toMatchObject({ status: null, error: 'blocked' });
      expect(got).toHaveLength(0);
    } finally {
      await strict.cleanup();
    }
  });
});

describe('forwarding each capture', () => {
  it('sends every capture to each target byte-exact (binary, gzip, signed), records each result, and tells live watchers', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/a` }, { url: `${targetBase}/b` }] }).expect(200);
    const socket = await connect(srv.base);
    const updates = collectUpdates(socket);
    await subscribe(socket, bin.id);
    try {
      got.length = 0;
      const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
      const payload = JSON.stringify({ type: 'invoice.paid' });
      // One instant for the signature and its header (two reads of the clock can straddle a second).
      const at = new Date();
      const signed = new StandardWebhook(secret).sign('msg_fwd', at, payload);
      const bodies = [randomBytes(3000), gzipSync(Buffer.from('{"zipped":true}')), Buffer.from(payload)];
      const ids = [
        idOf(await send(`${bin.url}/bin?x=1`, { headers: { 'content-type': 'application/octet-stream' }, body: bodies[0] })),
        idOf(await send(`${bin.url}/gz`, { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bodies[1] })),
        idOf(
          await send(`${bin.url}/signed`, {
            headers: [['content-type', 'application/json'], ['webhook-id', 'msg_fwd'], ['webhook-timestamp', String(Math.floor(at.getTime() / 1000))], ['webhook-signature', signed]],
            body: payload,
          }),
        ),
      ];
      // Every capture's row changes live (the results of both targets may come in one event).
      await updates.untilEach(ids);
      for (const id of ids) await expect.poll(async () => (await detail(bin.id, id)).forwards.length).toBe(2);
      for (const [i, id] of ids.entries()) {
        const d = await detail(bin.id, id);
        expect(d.forwards.map((f: ForwardRecord) => [f.kind, f.status]).sort()).toEqual([['forward', 200], ['forward', 200]]);
        for (const t of ['/a', '/b']) {
          const g = got.find((x) => x.url.startsWith(t + d.path));
          expect(g && createHash('sha256').update(g.body).digest('hex'), `${t}${d.path}`).toBe(createHash('sha256').update(bodies[i]).digest('hex'));
        }
      }
      expect(got.map((g) => g.url).sort()).toEqual(['/a/bin?x=1', '/a/gz', '/a/signed', '/b/bin?x=1', '/b/gz', '/b/signed']);
      const sg = got.find((g) => g.url === '/a/signed')!;
      const h = Object.fromEntries(Array.from({ length: sg.headers.length / 2 }, (_, i) => [sg.headers[2 * i].toLowerCase(), sg.headers[2 * i + 1]]));
      expect(new StandardWebhook(secret).verify(sg.body.toString(), h)).toEqual(JSON.parse(payload));
      expect(header(got.find((g) => g.url === '/a/gz')!.headers, 'content-encoding')).toBe('gzip');
      // Each result told watchers, by id: the row does not change (the forwards are on the detail).
      expect(new Set(updates.details)).toEqual(new Set(ids));
      expect(updates.items).toEqual([]);
    } finally {
      socket.close();
    }
  });

  it('a Stripe event and a GitHub delivery, forwarded as they came, verify at the target with stripe and @octokit/webhooks', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/app` }] }).expect(200);
    const socket = await connect(srv.base);
    const updates = collectUpdates(socket);
    await subscribe(socket, bin.id);
    try {
      got.length = 0;
      // As each sends them: Stripe pretty-prints its JSON (a re-serialised body would not
      // verify), GitHub signs the compact body; a non-ASCII character in each.
      const stripeBody = JSON.stringify({ id: 'evt_1', object: 'event', type: 'invoice.paid', data: { object: { customer_name: 'Zoë' } } }, null, 2);
      const stripeHeader = Stripe.webhooks.generateTestHeaderString({ payload: stripeBody, secret: 'whsec_fwd_stripe' });
      const ghBody = JSON.stringify({ action: 'opened', pull_request: { title: 'naïve fix' } });
      const ghHeader = await ghSign('gh-fwd-secret', ghBody);
      const stripeId = idOf(
        await send(`${bin.url}/stripe`, {
          headers: [['Content-Type', 'application/json; charset=utf-8'], ['User-Agent', 'Stripe/1.0 (+https://stripe.com/docs/webhooks)'], ['Stripe-Signature', stripeHeader]],
          body: stripeBody,
        }),
      );
      const ghId = idOf(
        await send(`${bin.url}/github`, {
          headers: [['Content-Type', 'application/json'], ['User-Agent', 'GitHub-Hookshot/abc123'], ['X-GitHub-Event', 'pull_request'], ['X-GitHub-Delivery', '72d3162e-cc78-11e3-81ab-4c9367dc0958'], ['X-Hub-Signature-256', ghHeader]],
          body: ghBody,
        }),
      );
      await updates.untilEach([stripeId, ghId]);
      const atTarget = (path: string) => {
        const g = got.find((x) => x.url === path)!;
        const h = Object.fromEntries(Array.from({ length: g.headers.length / 2 }, (_, i) => [g.headers[2 * i].toLowerCase(), g.headers[2 * i + 1]]));
        return { body: g.body, h };
      };
      const s = atTarget('/app/stripe');
      expect(s.body.equals(Buffer.from(stripeBody))).toBe(true);
      expect(Stripe.webhooks.constructEvent(s.body, s.h['stripe-signature'], 'whsec_fwd_stripe').type).toBe('invoice.paid');
      const g = atTarget('/app/github');
      expect(g.body.equals(Buffer.from(ghBody))).toBe(true);
      expect(await ghVerify('gh-fwd-secret', g.body.toString('utf8'), g.h['x-hub-signature-256'])).toBe(true);
      expect(g.h['x-github-delivery']).toBe('72d3162e-cc78-11e3-81ab-4c9367dc0958');
      // A tampered byte would not pass (the check above is not vacuous).
      expect(() => Stripe.webhooks.constructEvent(s.body.toString().replace('Zoë', 'Zoe'), s.h['stripe-signature'], 'whsec_fwd_stripe')).toThrow();
      for (const id of [stripeId, ghId]) expect((await detail(bin.id, id)).forwards.map((f: ForwardRecord) => [f.kind, f.status])).toEqual([['forward', 200]]);
    } finally {
      socket.close();
    }
  });

  it('past FORWARD_CONCURRENCY x 10 waiting, a forward is recorded as overloaded instead of queued without bound', async () => {
    const slow = await startServer({ config: { forwardConcurrency: 1 } });
    const hold: (() => void)[] = [];
    behave = (_q, res) => void hold.push(() => res.end('late'));
    try {
      const bin = await createBin(slow.base);
      await request(slow.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: targetBase }] }).expect(200);
      const ids: string[] = [];
      for (let i = 0; i < 15; i++) ids.push(idOf(await send(bin.url, { body: String(i) })));
      const overloaded = async () => {
        let n = 0;
        for (const id of ids) n += (await request(slow.base).get(`/api/bins/${bin.id}/requests/${id}`)).body.forwards.filter((f: ForwardRecord) => f.error === 'overloaded').length;
        return n;
      };
      // 1 in flight, 10 waiting: the other 4 are refused at once, and say so.
      await expect.poll(overloaded, { timeout: 10_000 }).toBe(4);
      behave = (_q, res) => res.end('thanks');
      for (const release of hold.splice(0)) release();
      await expect.poll(async () => (await request(slow.base).get(`/api/bins/${bin.id}/requests/${ids[14 - 4]}`)).body.forwards.length, { timeout: 10_000 }).toBe(1);
    } finally {
      behave = (_q, res) => res.end('thanks');
      for (const release of hold.splice(0)) release();
      await slow.cleanup();
    }
  });
});

describe('proxy mode', () => {
  it("the sender gets the first target's answer (not the plan's), minus origin-wide headers; the capture records both sides", async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/response`).send({ plan: [{ status: 500 }] }).expect(200);
    await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/app` }, { url: `${targetBase}/copy` }], answerWith: 'target' }).expect(200);
    behave = (_q, res) => {
      // Credentialed CORS and another hooklab's capture id (a target that is one) are not passed on
      // either, nor a header its Connection names, a Proxy-* one, or a truncation mark of its own.
      res.writeHead(503, [
        ['Retry-After', '7'],
        ['Set-Cookie', 'sid=1'],
        ['X-App', 'busy'],
        ['Content-Type', 'text/plain'],
        ['Access-Control-Allow-Credentials', 'true'],
        ['X-Hooklab-Request-Id', 'theirs'],
        ['Connection', 'keep-alive, X-Hop'],
        ['X-Hop', 'one hop'],
        ['Proxy-Authentication-Info', 'x'],
        ['X-Hooklab-Body-Truncated', 'true'],
      ]);
      res.end('app busy');
    };
    got.length = 0;
    try {
      const r = await send(`${bin.url}/orders`, { headers: { 'content-type': 'application/json' }, body: '{"id":1}' });
      expect(r.status).toBe(503);
      expect(r.body.toString()).toBe('app busy');
      expect(r.headers['retry-after']).toBe('7');
      expect(r.headers['x-app']).toBe('busy');
      expect(r.headers['set-cookie']).toBeUndefined();
      expect(r.headers['access-control-allow-credentials']).toBeUndefined();
      expect(r.headers['x-hop']).toBeUndefined();
      expect(r.headers['proxy-authentication-info']).toBeUndefined();
      expect(r.headers['x-hooklab-body-truncated']).toBeUndefined();
      expect(r.headers['content-security-policy']).toBe('sandbox');
      const id = idOf(r);
      expect(id).toMatch(/^[0-9a-z]{13,40}$/);
      await expect.poll(async () => (await detail(bin.id, id)).forwards.length).toBe(2);
      const d = await detail(bin.id, id);
      expect(d.answer).toMatchObject({ status: 503, source: 'proxy' });
      expect(d.forwards.find((f: ForwardRecord) => f.kind === 'proxy')).toMatchObject({ status: 503, body: 'app busy', url: `${targetBase}/app/orders` });
      expect(d.forwards.find((f: ForwardRecord) => f.kind === 'forward')).toMatchObject({ url: `${targetBase}/copy/orders` });
      // The bin's plan was not used.
      expect((await request(srv.base).get(`/api/bins/${bin.id}/response`)).body.position.consumed).toBe(0);
    } finally {
      behave = (_q, res) => res.end('thanks');
    }
  });

  it('a target that hangs gets the sender 504 at FORWARD_TIMEOUT_MS; one that is down, 502; both recorded', async () => {
    const quick = await startServer({ config: { forwardTimeoutMs: 300 } });
    behave = () => {}; // never answers
    try {
      const bin = await createBin(quick.base);
      await request(quick.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: targetBase }], answerWith: 'target' }).expect(200);
      const r = await send(bin.url, { body: 'x' });
      expect(r.status).toBe(504);
      expect(JSON.parse(r.body.toString()).error.code).toBe('target_timeout');
      const id = idOf(r);
      await expect.poll(async () => (await request(quick.base).get(`/api/bins/${bin.id}/requests/${id}`)).body.forwards[0]?.error).toBe('timeout');
      expect((await request(quick.base).get(`/api/bins/${bin.id}/requests/${id}`)).body.answer).toMatchObject({ status: 504, source: 'proxy' });

      await request(quick.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: 'http://127.0.0.1:9/' }], answerWith: 'target' }).expect(200);
      const down = await send(bin.url, { body: 'y' });
      expect(down.status).toBe(502);
      // The sender gets the code and generic words, nothing of the target (anyone with the bin's
      // URL reads them); the capture keeps where nothing listened.
      const downError = JSON.parse(down.body.toString()).error;
      expect(downError).toEqual({ code: 'target_unreachable', message: `The bin's forward target could not be reached (proxy mode). ${SEE_CAPTURE}` });
      expect(down.body.toString()).not.toContain('127.0.0.1');
      const downId = idOf(down);
      await expect.poll(async () => (await request(quick.base).get(`/api/bins/${bin.id}/requests/${downId}`)).body.forwards[0]).toMatchObject({
        kind: 'proxy',
        error: 'refused',
        errorDetail: 'nothing listens at 127.0.0.1:9',
      });
    } finally {
      target.closeAllConnections();
      behave = (_q, res) => res.end('thanks');
      await quick.cleanup();
    }
  });
});

describe('a sub-path that climbs out of the target', () => {
  /** POST to a raw request path (a URL object would resolve its dot segments first). */
  const sendPath = (base: string, rawPath: string) =>
    new Promise<{ status: number; body: string; id: string }>((resolve, reject) => {
      const u = new URL(base);
      const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method: 'POST', agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), id: res.headers['x-hooklab-request-id'] as string }));
      });
      req.on('error', reject);
      req.end('x');
    });

  it('is captured as sent but not forwarded, proxied or replayed: recorded as blocked, the sender told so; an ordinary path with dots goes', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/hooks` }], answerWith: 'target' }).expect(200);
    got.length = 0;
    const climbing = ['/../../internal/secret?x=1', '/%2e%2e/%2E%2e/admin', '/..\\..\\admin3', '/a/..%2f..%2fadmin4', '/./x'];
    for (const sub of climbing) {
      const r = await sendPath(srv.base, `/h/${bin.id}${sub}`);
      // Proxy mode: the sender learns it was not sent (before: the app's /internal/secret answered).
      expect(r.status, sub).toBe(502);
      expect(JSON.parse(r.body).error, sub).toMatchObject({ code: 'target_blocked' });
      // Generic words for the sender; why is recorded with the capture.
      expect(JSON.parse(r.body).error.message, sub).toBe(`The request was not sent to the bin's forward target: hooklab's rules for outbound calls refused it (proxy mode). ${SEE_CAPTURE}`);
      expect(r.body, sub).not.toContain(new URL(targetBase).host);
      const d = await detail(bin.id, r.id);
      // Captured exactly as sent all the same.
      expect(d.path + (d.queryString ? `?${d.queryString}` : ''), sub).toBe(sub);
      expect(d.forwards, sub).toEqual([expect.objectContaining({ kind: 'proxy', status: null, error: 'blocked', errorDetail: expect.stringMatching(/sub-path has a dot segment/) })]);
    }
    // Dots inside a segment are no dot segment.
    const fine = await sendPath(srv.base, `/h/${bin.id}/v1.2/.well-known/a..b`);
    expect(fine.status).toBe(200);
    expect(got.map((g) => g.url)).toEqual(['/hooks/v1.2/.well-known/a..b']);

    // A replay of such a capture to the bin's targets is refused the same way, and an edited
    // path that climbs is a 400 naming the field.
    const first = (await request(srv.base).get(`/api/bins/${bin.id}/requests?limit=100`).expect(200)).body.requests.at(-1);
    const replayed = (await request(srv.base).post(`/api/bins/${bin.id}/requests/${first.id}/replay`).send({}).expect(200)).body.records[0];
    expect(replayed).toMatchObject({ status: null, error: 'blocked' });
    const edited = await request(srv.base).post(`/api/bins/${bin.id}/requests/${fine.id}/replay`).send({ url: `${targetBase}/hooks`, path: '/a/../../etc' }).expect(400);
    expect(edited.body.error).toMatchObject({ field: 'path' });
    expect(edited.body.error.message).toMatch(/dot segment/);
    expect(got).toHaveLength(1);
  });
});

// The compiled server, as production runs it (forwards and replays on the forwarding thread).
describe('the compiled server', () => {
  let p: ServerProcess;
  let dataDir = '';
  beforeAll(async () => {
    dataDir = await tempDir();
    p = await spawnServer({ DATA_DIR: dataDir, FORWARD_TIMEOUT_MS: '60000' });
  });
  afterAll(async () => {
    if (p?.proc.exitCode === null) {
      p.proc.kill('SIGKILL');
      await p.exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it(`with ${MAX_REPLAY_JOBS} bulk replays running, the next is refused (503, Retry-After) and none is dropped; all finish and the server stays up`, async () => {
    const api = request(p.base);
    const bin = (await api.post('/api/bins').send({}).expect(201)).body as { id: string; url: string };
    await send(bin.url, { body: 'slow' });
    // The target holds every answer until told to go on.
    const hold: (() => void)[] = [];
    behave = (_q, res) => void hold.push(() => res.end('late'));
    try {
      const jobs: ReplayJob[] = [];
      for (let i = 0; i < MAX_REPLAY_JOBS; i++) jobs.push((await api.post(`/api/bins/${bin.id}/replay`).send({ url: targetBase }).expect(202)).body);
      expect(jobs.every((j) => j.state === 'running')).toBe(true);
      const refused = await api.post(`/api/bins/${bin.id}/replay`).send({ url: targetBase }).expect(503);
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
      expect(refused.body.error).toMatchObject({ code: 'too_many_replays' });
      expect(refused.body.error.message).toMatch(/running already/);
      // The oldest is still there, running.
      expect((await api.get(`/api/replays/${jobs[0].id}`).expect(200)).body).toMatchObject({ state: 'running', done: 0 });
      // Their answers come: every job finishes, each with its one capture sent.
      await expect.poll(() => hold.length, { timeout: 20_000 }).toBeGreaterThan(0);
      behave = (_q, res) => res.end('thanks');
      for (const release of hold.splice(0)) release();
      for (const j of jobs) {
        await expect.poll(async () => (await api.get(`/api/replays/${j.id}`).expect(200)).body.state, { timeout: 20_000 }).toBe('finished');
        expect((await api.get(`/api/replays/${j.id}`)).body).toMatchObject({ done: 1, failed: 0, error: null });
      }
      // Room again: a new one is taken, and the oldest finished one makes way for it.
      const next = (await api.post(`/api/bins/${bin.id}/replay`).send({ url: targetBase }).expect(202)).body as ReplayJob;
      await expect.poll(async () => (await api.get(`/api/replays/${next.id}`).expect(200)).body.state, { timeout: 20_000 }).toBe('finished');
      await api.get(`/api/replays/${jobs[0].id}`).expect(404);
      await api.get(`/api/replays/${jobs[1].id}`).expect(200);
      await api.get('/api/health').expect(200);
      expect(p.proc.exitCode).toBeNull();
      expect(p.output()).not.toMatch(/Unhandled|TypeError/);
    } finally {
      behave = (_q, res) => res.end('thanks');
      for (const release of hold.splice(0)) release();
    }
  });

  it("a replay to the bin's own URL under a name hooklab does not know makes a new capture there (forwarding thread), while a forward there is still stopped as a loop", async () => {
    const api = request(p.base);
    const bin = (await api.post('/api/bins').send({}).expect(201)).body as { id: string; url: string };
    const id = idOf(await send(`${bin.url}/orig`, { body: 'one' }));
    const url = `http://[::ffff:127.0.0.1]:${new URL(p.base).port}/h/${bin.id}`;
    const rec = (await api.post(`/api/bins/${bin.id}/requests/${id}/replay`).send({ url }).expect(200)).body.records[0] as ForwardRecord;
    expect(rec).toMatchObject({ kind: 'replay', status: 200, error: null });
    const paths = async () => (await api.get(`/api/bins/${bin.id}/requests`).expect(200)).body.requests.map((r: { path: string }) => r.path);
    expect(await paths()).toEqual(['/orig', '/orig']);
    // A forward target there still loops: stopped at the first hop.
    await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${url}/fwd` }] }).expect(200);
    const fid = idOf(await send(`${bin.url}/x`, { body: 'two' }));
    await expect.poll(async () => (await api.get(`/api/bins/${bin.id}/requests/${fid}`)).body.forwards.length).toBe(1);
    expect((await api.get(`/api/bins/${bin.id}/requests/${fid}`)).body.forwards[0]).toMatchObject({ status: 508, error: 'loop' });
    expect(await paths()).toEqual(['/x', '/orig', '/orig']);
  });
});

// Bulk replay jobs are kept in DATA_DIR (replays.log): GET /api/replays/:id answers after a
// restart, and a job its process was killed in the middle of reads as failed.
describe('bulk replays over a restart (the compiled server, lowdb)', () => {
  const procs: ServerProcess[] = [];
  const dirs: string[] = [];
  const start = async (dataDir: string) => {
    const s = await spawnServer({ DATA_DIR: dataDir, FORWARD_TIMEOUT_MS: '60000' });
    procs.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of procs) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
    await Promise.all(procs.map((s) => s.exited));
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const binWith = async (base: string, n: number) => {
    const bin = (await request(base).post('/api/bins').send({}).expect(201)).body as { id: string; url: string };
    for (let i = 0; i < n; i++) await send(`${bin.url}/n${i}`, { body: String(i) });
    return bin;
  };

  it('a finished job is answered after a restart', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const first = await start(dataDir);
    const bin = await binWith(first.base, 3);
    behave = (_q, res) => res.end('thanks');
    const job = (await request(first.base).post(`/api/bins/${bin.id}/replay`).send({ url: targetBase }).expect(202)).body as ReplayJob;
    await expect.poll(async () => (await request(first.base).get(`/api/replays/${job.id}`).expect(200)).body.state).toBe('finished');
    const finished = (await request(first.base).get(`/api/replays/${job.id}`).expect(200)).body as ReplayJob;
    expect(finished).toMatchObject({ total: 3, done: 3, failed: 0, error: null });
    first.proc.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    const again = await start(dataDir);
    expect((await request(again.base).get(`/api/replays/${job.id}`).expect(200)).body).toEqual(finished);
  });

  it('a job running at a SIGKILL reads failed after the restart, with why', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const first = await start(dataDir);
    const bin = await binWith(first.base, 3);
    // The target holds its answers: the job waits on the first capture.
    const hold: (() => void)[] = [];
    behave = (_q, res) => void hold.push(() => res.end('late'));
    try {
      const job = (await request(first.base).post(`/api/bins/${bin.id}/replay`).send({ url: targetBase }).expect(202)).body as ReplayJob;
      await expect.poll(() => hold.length).toBe(1);
      // Past a flush (FLUSH_INTERVAL_MS): the job is on disk, running.
      await new Promise((r) => setTimeout(r, 600));
      expect((await request(first.base).get(`/api/replays/${job.id}`).expect(200)).body).toMatchObject({ state: 'running', done: 0 });
      first.proc.kill('SIGKILL');
      await first.exited;
      const again = await start(dataDir);
      const after = (await request(again.base).get(`/api/replays/${job.id}`).expect(200)).body as ReplayJob;
      expect(after).toMatchObject({ id: job.id, binId: bin.id, total: 3, done: 0, state: 'failed', error: REPLAY_STOPPED });
      expect(after.finishedAt).not.toBeNull();
    } finally {
      behave = (_q, res) => res.end('thanks');
      for (const release of hold.splice(0)) release();
    }
  });
});
