// A capture keeps every header it was sent, however many, within MAX_HEADER_BYTES: Node's
// default kept about the first 1000 and dropped the rest without a word (a signature header
// sent last vanished, and the capture did not say it was cut). Such a capture exports and
// imports back whole. Chunked trailers, stored with the headers, count with them.
import net from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../shared/api.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ storage: 'memory' });
});
afterAll(() => srv.cleanup());

/** Raw bytes to the server; answers what came back (the request asks for the connection to close). */
function raw(head: string): Promise<string> {
  const u = new URL(srv.base);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname);
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => resolve(out));
    s.end(head);
  });
}

const detail = async (binId: string, id: string) => (await request(srv.base).get(`/api/bins/${binId}/requests/${id}`).expect(200)).body as RequestDetail;

describe('many request headers', () => {
  it('1,500 headers over a raw socket are all stored, in order; the capture exports and imports back whole', async () => {
    const bin = await createBin(srv.base);
    const host = new URL(srv.base).host;
    const sent: [string, string][] = [['Host', host]];
    for (let i = 0; i < 1499; i++) sent.push([i % 2 ? `X-H${i}` : 'x-repeat', `v${i}`]);
    sent.push(['X-Signature', 'sha256=last-one']);
    sent.push(['Connection', 'close'], ['Content-Length', '2']);
    const head = `POST /h/${bin.id}/many HTTP/1.1\r\n${sent.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\nhi`;
    expect(head.length).toBeLessThan(srv.config.maxHeaderBytes);
    const answer = await raw(head);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    const id = /\r\nx-hooklab-request-id: (\S+)\r\n/i.exec(answer)![1];
    const d = await detail(bin.id, id);
    expect(d.headers.length).toBe(sent.length);
    expect(d.headers).toEqual(sent);
    expect(d.truncated).toBe(false);

    const exported = await request(srv.base).get(`/api/bins/${bin.id}/export`).buffer(true).parse((res, cb) => {
      let t = '';
      res.on('data', (c: Buffer) => (t += c.toString()));
      res.on('end', () => cb(null, t));
    });
    const to = await createBin(srv.base);
    const imp = await request(srv.base).post(`/api/bins/${to.id}/import`).set('content-type', 'application/x-ndjson').send(exported.body as string);
    expect(imp.status, JSON.stringify(imp.body)).toBe(200);
    const [row] = (await request(srv.base).get(`/api/bins/${to.id}/requests`).expect(200)).body.requests as { id: string }[];
    expect((await detail(to.id, row.id)).headers).toEqual(sent);
  });

  it('MAX_HEADER_BYTES still bounds them: a head past it gets 431 and is not captured', async () => {
    const bin = await createBin(srv.base);
    // Node counts the names and values (not ": " or line ends): these add up past the limit.
    const lines = Array.from({ length: Math.ceil(srv.config.maxHeaderBytes / 16) }, (_, i) => `X-${i}: ${'v'.repeat(16)}\r\n`).join('');
    const answer = await raw(`POST /h/${bin.id} HTTP/1.1\r\nHost: x\r\n${lines}Connection: close\r\nContent-Length: 0\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect((await request(srv.base).get(`/api/bins/${bin.id}/requests`).expect(200)).body.requests).toEqual([]);
  });

  it('MAX_HEADER_COUNT bounds their number: more gets 431 too_many_headers, nothing captured', async () => {
    const bin = await createBin(srv.base);
    const max = srv.config.maxHeaderCount;
    const lines = Array.from({ length: max }, (_, i) => `X-${i}: v\r\n`).join(''); // + Host: one over
    const head = `POST /h/${bin.id} HTTP/1.1\r\nHost: x\r\n${lines}Connection: close\r\nContent-Length: 0\r\n\r\n`;
    expect(head.length).toBeLessThan(srv.config.maxHeaderBytes);
    const answer = await raw(head);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toContain(`"code":"too_many_headers"`);
    expect(answer).toContain(`more than ${max} headers (MAX_HEADER_COUNT)`);
    expect((await request(srv.base).get(`/api/bins/${bin.id}/requests`).expect(200)).body.requests).toEqual([]);
  });

  it('chunked trailers count with the headers: 2000 of them get 431 too_many_headers, nothing captured; up to the limit all are kept', async () => {
    const bin = await createBin(srv.base);
    const max = srv.config.maxHeaderCount;
    // Host, Transfer-Encoding and Connection: three headers; the trailers fill up the rest.
    const chunked = (trailers: number) =>
      `POST /h/${bin.id}/t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n0\r\n` +
      Array.from({ length: trailers }, (_, i) => `X-T${i}: v\r\n`).join('') +
      '\r\n';
    const over = await raw(chunked(2000));
    expect(over).toMatch(/^HTTP\/1\.1 431 /);
    expect(over).toContain(`"code":"too_many_headers"`);
    expect(over).toContain(`more than ${max} header and trailer fields (MAX_HEADER_COUNT)`);
    expect((await request(srv.base).get(`/api/bins/${bin.id}/requests`).expect(200)).body.requests).toEqual([]);

    const atLimit = await raw(chunked(max - 3));
    expect(atLimit).toMatch(/^HTTP\/1\.1 200 /);
    const id = /\r\nx-hooklab-request-id: (\S+)\r\n/i.exec(atLimit)![1];
    const d = await detail(bin.id, id);
    expect(d.trailers).toHaveLength(max - 3);
    expect(d.trailers!.at(-1)).toEqual([`X-T${max - 4}`, 'v']);
  });

  it('trailers past MAX_HEADER_BYTES on their own get 431 too (Node bounds them as a head), nothing captured', async () => {
    const bin = await createBin(srv.base);
    const big = Array.from({ length: Math.ceil(srv.config.maxHeaderBytes / 1000) + 1 }, (_, i) => `X-T${i}: ${'t'.repeat(1000)}\r\n`).join('');
    const answer = await raw(`POST /h/${bin.id} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n0\r\n${big}\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect((await request(srv.base).get(`/api/bins/${bin.id}/requests`).expect(200)).body.requests).toEqual([]);
  });

  it('header filters: each met by some header, any case, in one pass; at most 20 in one search', async () => {
    const bin = await createBin(srv.base);
    const host = new URL(srv.base).host;
    const many = Array.from({ length: 1500 }, (_, i) => `X-Pad-${i}: v\r\n`).join('');
    const answer = await raw(`POST /h/${bin.id} HTTP/1.1\r\nHost: ${host}\r\nX-Kind: order\r\n${many}X-Sig: abc\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    const id = /\r\nx-hooklab-request-id: (\S+)\r\n/i.exec(answer)![1];
    const q = async (qs: string) => (await request(srv.base).get(`/api/bins/${bin.id}/requests?${qs}`)).body.requests.map((r: { id: string }) => r.id);
    expect(await q('header=x-sig&header=X-KIND:order&header=x-pad-1499')).toEqual([id]);
    expect(await q('header=x-sig:abc&header=x-kind:other')).toEqual([]);
    expect(await q('header=x-missing')).toEqual([]);
    const tooMany = Array.from({ length: 21 }, (_, i) => `header=x-${i}`).join('&');
    const r = await request(srv.base).get(`/api/bins/${bin.id}/requests?${tooMany}`);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/at most 20 header filters/);
  });
});
