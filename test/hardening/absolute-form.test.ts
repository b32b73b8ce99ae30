// A request target in absolute form ("POST http://host/h/abc HTTP/1.1"), which an origin server
// must accept (RFC 9112, 3.2.2). Before, a receiver URL written so was not recognised: a POST got
// Express's 404 and a GET the UI's page (200: the sender thought it delivered), nothing captured;
// and the API judged such a request by its Host header, not by the name it asked for.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../shared/api.ts';
import { fromAbsoluteForm } from '../../server/http/absolute-form.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ storage: 'memory' });
});
afterAll(() => srv.cleanup());

/** One request written as given; answers the status line and the headers as text. */
function raw(base: string, text: string): Promise<string> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => s.end(text));
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

describe('absolute-form request targets', () => {
  it('fromAbsoluteForm: the target as written and the authority; other forms are left alone', () => {
    expect(fromAbsoluteForm('http://127.0.0.1:4901/h/abc/x%2F..?a=1&b')).toEqual({ target: '/h/abc/x%2F..?a=1&b', authority: '127.0.0.1:4901' });
    expect(fromAbsoluteForm('HTTPS://example.com')).toEqual({ target: '/', authority: 'example.com' });
    expect(fromAbsoluteForm('http://example.com?x=1')).toEqual({ target: '/?x=1', authority: 'example.com' });
    expect(fromAbsoluteForm('/h/abc')).toBeNull();
    expect(fromAbsoluteForm('*')).toBeNull();
  });

  it('a POST and a GET to a receiver URL in absolute form are captured, path and query as written', async () => {
    const bin = await createBin(srv.base);
    const host = new URL(srv.base).host;
    const post = await raw(srv.base, `POST http://${host}/h/${bin.id}/abs?x=1 HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
    expect(post).toMatch(/^HTTP\/1\.1 200 /);
    const id = /x-hooklab-request-id: (\w+)/i.exec(post)![1];
    const get = await raw(srv.base, `GET http://${host}/h/${bin.id} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(get).toMatch(/^HTTP\/1\.1 200 /);
    expect(get).toMatch(/x-hooklab-request-id: \w+/i);
    const d = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body;
    expect([d.method, d.path, d.queryString, d.body]).toEqual(['POST', '/abs', 'x=1', '{}']);
    expect((await json<{ requestCount: number }>(srv.base, 'GET', `/api/bins/${bin.id}`)).body.requestCount).toBe(2);
  });

  it("the API judges the name asked for in the target, not the Host header (a name that is not hooklab's is refused)", async () => {
    const host = new URL(srv.base).host;
    expect(await raw(srv.base, `GET http://${host}/api/bins HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 200 /);
    const other = await raw(srv.base, `GET http://evil.example/api/bins HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(other).toMatch(/^HTTP\/1\.1 403 /);
    expect(other).toContain('forbidden_host');
  });
});
