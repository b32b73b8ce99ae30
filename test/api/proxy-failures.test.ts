// Proxy mode when the first target's exchange goes wrong: an answer cut off after its head (a
// reset, the timeout) is a failure for the sender (502/504, generic words), not the answer;
// one capped at FORWARD_MAX_RESPONSE_BYTES is still passed on; a target that leads back into
// hooklab is a generic 502, not hooklab's own 508. Real targets (node:net, node:http) over
// loopback, hooklab in-process.
import http from 'node:http';
import net from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForwardRecord, RequestDetail, RequestItem } from '../../shared/api.ts';
import { SEE_CAPTURE } from '../../server/capture/proxy-answer.ts';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';
import { recordingTarget } from '../helpers/target.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

const idOf = (r: { headers: http.IncomingHttpHeaders }) => r.headers['x-hooklab-request-id'] as string;
const detail = async (binId: string, id: string, base = srv.base) => (await request(base).get(`/api/bins/${binId}/requests/${id}`).expect(200)).body as RequestDetail;
const proxyRecord = async (binId: string, id: string, base = srv.base) => (await detail(binId, id, base)).forwards.find((f) => f.kind === 'proxy');

async function proxyBin(target: string, base = srv.base) {
  const bin = await createBin(base);
  await request(base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: target }], answerWith: 'target' }).expect(200);
  return bin;
}

/** A raw TCP target: `answer` is called with the socket once the request's bytes came. */
async function rawTarget(answer: (s: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.once('data', () => answer(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/app`,
    host: `127.0.0.1:${port}`,
    close() {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

describe('proxy mode: an answer cut off after its head', () => {
  it('reset mid-body: the sender gets 502 target_incomplete; the record keeps the head, the bytes that came (truncated) and the reset', async () => {
    const t = await rawTarget((s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\ncontent-type: text/plain\r\n\r\npartial');
      setTimeout(() => s.resetAndDestroy(), 50);
    });
    try {
      const bin = await proxyBin(t.url);
      const r = await send(bin.url, { body: 'x' });
      expect(r.status).toBe(502);
      expect(r.headers['x-hooklab-body-truncated']).toBeUndefined();
      expect(JSON.parse(r.body.toString())).toEqual({
        error: { code: 'target_incomplete', message: `The bin's forward target's answer was cut off before it was complete (proxy mode). ${SEE_CAPTURE}` },
      });
      expect(r.body.toString()).not.toContain(t.host);
      expect(r.body.toString()).not.toContain('partial');
      const id = idOf(r);
      await expect.poll(() => proxyRecord(bin.id, id)).toBeDefined();
      const rec = (await proxyRecord(bin.id, id)) as ForwardRecord;
      expect(rec).toMatchObject({ status: 200, error: 'reset', bodyTruncated: true, body: 'partial' });
      expect(rec.errorDetail).toMatch(/before the answer was complete/);
      expect(rec.headers).toContainEqual(['content-length', '100']);
      // The capture (its row) says what the sender got.
      expect((await detail(bin.id, id)).answer).toMatchObject({ status: 502, source: 'proxy' });
      const row = (await request(srv.base).get(`/api/bins/${bin.id}/requests`).expect(200)).body.requests.find((i: RequestItem) => i.id === id);
      expect(row.status).toBe(502);
    } finally {
      t.close();
    }
  });

  it('a body that stalls past FORWARD_TIMEOUT_MS: the sender gets 504 target_timeout; the record keeps status, the bytes that came (truncated) and the timeout', async () => {
    const t = await rawTarget((s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial'));
    // A short forward timeout, for this stalled target only.
    const quick = await startServer({ config: { forwardTimeoutMs: 500 } });
    try {
      const bin = await proxyBin(t.url, quick.base);
      const r = await send(bin.url, { body: 'x' });
      expect(r.status).toBe(504);
      expect(JSON.parse(r.body.toString())).toEqual({
        error: { code: 'target_timeout', message: `The bin's forward target did not finish its answer within FORWARD_TIMEOUT_MS (proxy mode). ${SEE_CAPTURE}` },
      });
      const id = idOf(r);
      await expect.poll(() => proxyRecord(bin.id, id, quick.base)).toBeDefined();
      expect(await proxyRecord(bin.id, id, quick.base)).toMatchObject({ status: 200, error: 'timeout', bodyTruncated: true, body: 'partial', errorDetail: 'answer not finished within the timeout' });
      expect((await detail(bin.id, id, quick.base)).answer).toMatchObject({ status: 504, source: 'proxy' });
    } finally {
      t.close();
      await quick.cleanup();
    }
  });

  it('an answer past FORWARD_MAX_RESPONSE_BYTES is still passed on (capped, said by X-Hooklab-Body-Truncated): a whole answer, cut by choice', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 'a');
    const t = await recordingTarget((_q, res) => res.end(big));
    try {
      const bin = await proxyBin(t.base);
      const r = await send(bin.url, { body: 'x' });
      expect(r.status).toBe(200);
      expect(r.headers['x-hooklab-body-truncated']).toBe('true');
      expect(r.body.length).toBe(srv.config.forwardMaxResponseBytes);
      const id = idOf(r);
      await expect.poll(() => proxyRecord(bin.id, id)).toBeDefined();
      expect(await proxyRecord(bin.id, id)).toMatchObject({ status: 200, error: null, bodyTruncated: true });
    } finally {
      t.close();
    }
  });
});

describe('proxy mode: a target that leads back into this hooklab under another name', () => {
  it('gets the sender the generic 502 target_blocked, not hooklab\'s own 508; the record says loop', async () => {
    const port = new URL(srv.base).port;
    const inner = await createBin(srv.base);
    // 0.0.0.0 reaches this server on loopback, under a name not on its list of origins.
    const bin = await proxyBin(`http://0.0.0.0:${port}/h/${inner.id}`);
    const r = await send(bin.url, { body: 'x' });
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body.toString())).toEqual({
      error: { code: 'target_blocked', message: `The request was not sent to the bin's forward target: hooklab's rules for outbound calls refused it (proxy mode). ${SEE_CAPTURE}` },
    });
    expect(r.headers['x-hooklab-loop']).toBeUndefined();
    const id = idOf(r);
    await expect.poll(() => proxyRecord(bin.id, id)).toBeDefined();
    expect(await proxyRecord(bin.id, id)).toMatchObject({ status: 508, error: 'loop' });
    expect((await detail(bin.id, id)).answer).toMatchObject({ status: 502, source: 'proxy' });
    // Nothing came in at the inner bin.
    expect((await request(srv.base).get(`/api/bins/${inner.id}/requests`).expect(200)).body.requests).toEqual([]);
  });
});
