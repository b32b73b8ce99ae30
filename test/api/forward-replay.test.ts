// Issue 13, server side: forward targets on a bin (validated, loops refused), replays of a
// capture (as captured or edited) and of a whole bin, stored with the capture; signed requests
// still verify at the target with the senders' own libraries; hostile targets are contained.
import http from 'node:http';
import { sign as ghSign, verify as ghVerify } from '@octokit/webhooks-methods';
import request from 'supertest';
import Stripe from 'stripe';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForwardRecord, RequestDetail } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

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
    expect(bad.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['targets[2].url']);
    const loop = await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${srv.base}/h/${bin.id}` }] }).expect(400);
    expect(loop.body.error).toMatchObject({ field: 'targets[0].url' });
    expect(loop.body.error.message).toMatch(/own receiver URLs: forwarding there would loop/);
    await api.put(`/api/bins/${bin.id}/forward`).send({ targets: Array.from({ length: 11 }, () => ({ url: targetBase })) }).expect(400);
    const ok = await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/hooks` }], answerWith: 'target' }).expect(200);
    expect(ok.body).toEqual({ targets: [{ url: `${targetBase}/hooks` }], answerWith: 'target' });
    await api.put(`/api/bins/${bin.id}/forward`).send({ targets: [] }).expect(200);
    expect((await api.get(`/api/bins/${bin.id}/forward`)).body.targets).toEqual([]);
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

  it("a replay to the bin's own URL makes a new capture there; without a URL it goes to the bin's targets", async () => {
    const bin = await createBin(srv.base);
    const id = idOf(await send(`${bin.url}/first`, { body: 'one' }));
    await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({ url: bin.url }).expect(200);
    const list = (await request(srv.base).get(`/api/bins/${bin.id}/requests`)).body.requests;
    expect(list.map((x: { path: string }) => x.path)).toEqual(['/first', '/first']);
    await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({}).expect(400);
    await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/t1` }, { url: `${targetBase}/t2` }] }).expect(200);
    got.length = 0;
    const r = await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({}).expect(200);
    expect(r.body.records.map((x: ForwardRecord) => x.url)).toEqual([`${targetBase}/t1/first`, `${targetBase}/t2/first`]);
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
    expect(now).toMatchObject({ state: 'finished', done: 20, failed: 0 });
    expect(got.map((x) => x.url)).toEqual(Array.from({ length: 20 }, (_, i) => `/n${i}`));
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
