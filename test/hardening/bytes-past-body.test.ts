// A sender whose Content-Length is shorter than the body it sends (the length of a UTF-8 string
// in characters, a common bug): the bytes past it are no request. The request before them is
// answered as the bin says, and that answer is what its capture records; the connection then
// closes. Before, Node answered 400 at once and closed, while the capture said 200.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

/** Bytes to the server; everything it sent back until it closed the connection (at most 10 s). */
function exchange(bytes: Buffer): Promise<{ answer: string; closed: boolean }> {
  const u = new URL(srv.base);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port), u.hostname, () => s.write(bytes));
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => (clearTimeout(t), resolve({ answer, closed: true })));
    const t = setTimeout(() => (s.destroy(), resolve({ answer, closed: false })), 10_000);
  });
}

describe('bytes past a request\'s Content-Length', () => {
  it.each([
    ['at once', 0],
    ['after a delayed answer', 300],
  ])('the bin\'s answer goes first (%s), then the connection closes; the capture says what was sent', async (_what, delayMs) => {
    const bin = await createBin(srv.base);
    await json(srv.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 201, body: 'made', delayMs } });
    const u = new URL(bin.url);
    const body = '{"name":"Zoë Müller","city":"Zürich"}'; // 37 characters, 40 bytes
    const head = `POST ${u.pathname}/utf8 HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const { answer, closed } = await exchange(Buffer.concat([Buffer.from(head), Buffer.from(body)]));
    expect(closed).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 201 /);
    expect(answer).not.toContain('400 Bad Request');
    expect(answer.endsWith('made')).toBe(true);
    const [item] = (await json<RequestPage>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body.requests;
    const d = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${item.id}`)).body;
    expect(d.status).toBe(201);
    expect(d.size).toBe(37);
  });

  it('two pipelined requests, then junk: both are answered, then the connection closes', async () => {
    const bin = await createBin(srv.base);
    const u = new URL(bin.url);
    const req = (p: string) => `POST ${u.pathname}${p} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: 2\r\n\r\nok`;
    const { answer, closed } = await exchange(Buffer.from(req('/one') + req('/two') + 'JUNK JUNK\r\n\r\n'));
    expect(closed).toBe(true);
    expect(answer.match(/HTTP\/1\.1 \d+ /g)).toEqual(['HTTP/1.1 200 ', 'HTTP/1.1 200 ']);
    const items = (await json<RequestPage>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body.requests;
    expect(items.map((r) => r.path).sort()).toEqual(['/one', '/two']);
  });

  it('a second request on a kept-alive connection whose headers are too large still gets 431', async () => {
    const bin = await createBin(srv.base);
    const u = new URL(bin.url);
    const first = `POST ${u.pathname}/a HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: 2\r\n\r\nok`;
    const second = `POST ${u.pathname}/b HTTP/1.1\r\nHost: ${u.host}\r\nX-Big: ${'x'.repeat(srv.config.maxHeaderBytes + 1024)}\r\nContent-Length: 2\r\n\r\nok`;
    const { answer } = await exchange(Buffer.from(first + second));
    expect(answer.match(/HTTP\/1\.1 \d+ /g)).toEqual(['HTTP/1.1 200 ', 'HTTP/1.1 431 ']);
  });

  it('junk with no request under way still gets 400 and a closed connection', async () => {
    const { answer, closed } = await exchange(Buffer.from('NOT HTTP AT ALL\r\n\r\n'));
    expect(closed).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });
});
