// A sender that offers to upgrade the connection (HTTP/2 over cleartext, `Upgrade: h2c`, as
// `curl --http2` and Java's HttpClient do, or a WebSocket to a receiver URL) is captured and
// answered over HTTP/1.1, as if it had not asked. Before, Socket.IO's upgrade handler took
// every such request and closed it after 1 s: nothing was captured, and the sender got no answer.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

/** Raw bytes to the server; what came back until it went quiet for 500 ms (or closed). */
function raw(bytes: string): Promise<string> {
  const u = new URL(srv.base);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port), u.hostname, () => s.write(bytes));
    let got = '';
    let quiet: NodeJS.Timeout | undefined;
    const done = () => (s.destroy(), resolve(got));
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      clearTimeout(quiet);
      quiet = setTimeout(done, 500);
    });
    s.on('close', () => (clearTimeout(quiet), resolve(got)));
    s.on('error', () => {});
    setTimeout(done, 5000);
  });
}

const detail = async (binId: string, id: string) => (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${binId}/requests/${id}`)).body;

describe('upgrade offers to receiver URLs', () => {
  it('an h2c offer with a body is answered 200 over HTTP/1.1 and captured with every header as sent', async () => {
    const bin = await createBin(srv.base);
    const u = new URL(bin.url);
    const head = [
      `POST ${u.pathname}/h2c?x=1 HTTP/1.1`,
      `Host: ${u.host}`,
      'Connection: Upgrade, HTTP2-Settings',
      'Upgrade: h2c',
      'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA',
      'Content-Type: application/json',
      'Content-Length: 7',
    ];
    const answer = await raw(`${head.join('\r\n')}\r\n\r\n{"a":1}`);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    const id = /\r\nx-hooklab-request-id: (\S+)\r\n/i.exec(answer)![1];
    const d = await detail(bin.id, id);
    expect(d.path).toBe('/h2c');
    expect(d.queryString).toBe('x=1');
    expect(d.body).toBe('{"a":1}');
    expect(d.headers).toEqual(head.slice(1).map((l) => l.split(': ')));
  });

  it('curl --http2 (an h2c offer), twice on one connection: both captured, both answered', async () => {
    const bin = await createBin(srv.base);
    const { stdout } = await promisify(execFile)('curl', ['-s', '--max-time', '10', '--http2', '-w', '%{http_code} %{http_version}\\n', '-d', 'one', '-o', '/dev/null', `${bin.url}/a`, '-d', 'two', '-o', '/dev/null', `${bin.url}/b`]);
    expect(stdout).toBe('200 1.1\n200 1.1\n');
    const list = (await json<RequestPage>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body.requests;
    expect(list.map((r) => r.path)).toEqual(['/b', '/a']);
    for (const r of list) {
      const d = await detail(bin.id, r.id);
      expect(d.body).toBe('one&two');
      expect(d.headers).toContainEqual(['Upgrade', 'h2c']);
      expect(d.headers).toContainEqual(['Connection', 'Upgrade, HTTP2-Settings']);
    }
  });

  it('30 h2c offers one after another on one connection: each answered, no listener piling up on the socket', async () => {
    const bin = await createBin(srv.base);
    const u = new URL(bin.url);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const s = net.connect(Number(u.port), u.hostname);
      await new Promise((r) => s.once('connect', r));
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString('latin1')));
      for (let i = 0; i < 30; i++) {
        s.write(`GET ${u.pathname}/k${i} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n`);
        await expect.poll(() => (got.match(/HTTP\/1\.1 200 /g) ?? []).length).toBe(i + 1);
      }
      s.destroy();
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    expect((await json<RequestPage>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body.requests).toHaveLength(30);
  });

  it('an h2c offer pipelined behind a request whose answer is delayed: both answered, in order', async () => {
    const bin = await createBin(srv.base);
    await json(srv.base, 'PUT', `/api/bins/${bin.id}/response`, { rules: [{ status: 202, delayMs: 300, match: { pathPrefix: '/slow' } }] });
    const u = new URL(bin.url);
    const answer = await raw(
      `POST ${u.pathname}/slow HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: 1\r\n\r\na` +
        `GET ${u.pathname}/after HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n`,
    );
    expect(answer.match(/HTTP\/1\.1 \d+ /g)).toEqual(['HTTP/1.1 202 ', 'HTTP/1.1 200 ']);
  });

  it('a WebSocket offer to a receiver URL is captured and gets the bin\'s answer; the live view\'s own WebSocket still connects', async () => {
    const bin = await createBin(srv.base);
    const u = new URL(bin.url);
    const answer = await raw(
      `GET ${u.pathname}/ws HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    const list = (await json<RequestPage>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body.requests;
    expect(list.map((r) => [r.method, r.path])).toEqual([['GET', '/ws']]);
    const s = io(srv.base, { transports: ['websocket'], reconnection: false });
    try {
      await new Promise<void>((resolve, reject) => {
        s.on('connect', () => resolve());
        s.on('connect_error', reject);
      });
      expect(s.io.engine.transport.name).toBe('websocket');
    } finally {
      s.close();
    }
  });
});
