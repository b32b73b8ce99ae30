// A 205 (Reset Content) carries no content (RFC 9110 §15.3.6): whatever body a bin's settings
// give it (a step's, the default's, a rule's, or none: the status text), or a proxied target's,
// none is sent, and the length says 0. Real HTTP over loopback.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';
import { recordingTarget } from '../helpers/target.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ storage: 'memory' });
});
afterAll(() => srv.cleanup());

async function binWith(settings: object) {
  const bin = await createBin(srv.base);
  await request(srv.base).put(`/api/bins/${bin.id}/response`).send(settings).expect(200);
  return bin;
}

describe('205 Reset Content', () => {
  it('a plan step, the default response and a rule with a 205 send no body (content-length: 0); the capture records the 205', async () => {
    const bin = await binWith({
      default: { status: 205, body: 'from the default' },
      rules: [{ status: 205, body: 'from a rule', match: { pathPrefix: '/rule' } }],
      plan: [{ status: 205, body: 'yy' }, { status: 205 }],
    });
    for (const [path, what] of [['', 'a step with a body'], ['', 'a step without one (the status text)'], ['/rule', 'a rule'], ['', 'the default']]) {
      const r = await send(bin.url + path, { body: 'x' });
      expect(r.status, what).toBe(205);
      expect(r.headers['content-length'], what).toBe('0');
      expect(r.body.length, what).toBe(0);
      const id = r.headers['x-hooklab-request-id'] as string;
      expect((await request(srv.base).get(`/api/bins/${bin.id}/requests/${id}`).expect(200)).body.answer.status, what).toBe(205);
    }
    // The connection stays usable: nothing of a body was left on it for the next answer.
    expect((await send(bin.url, { method: 'HEAD' })).headers['content-length']).toBe('0');
  });

  it('proxy mode: a target that answers 205 with a body: the sender gets the 205 without it', async () => {
    const t = await recordingTarget((_q, res) => {
      // Written raw: node:http would send it as given, body included.
      res.writeHead(205, { 'content-length': '4' });
      res.end('body');
    });
    try {
      const bin = await createBin(srv.base);
      await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: t.base }], answerWith: 'target' }).expect(200);
      const r = await send(bin.url, { body: 'x' });
      expect(r.status).toBe(205);
      expect(r.headers['content-length']).toBe('0');
      expect(r.body.length).toBe(0);
    } finally {
      t.close();
    }
  });
});
