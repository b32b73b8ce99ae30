// The forwards' HTTP client (server/forward/request.ts, undici underneath) against raw TCP
// targets that answer oddly: what is recorded for each answer, the bytes that go out, the
// connection pool (reuse, per-origin limit, idle close), the one timeout, the outbound policy's
// checked lookup, HTTPS, and which socket each request went out on (loop detection).
import { EventEmitter } from 'node:events';
import https from 'node:https';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { checkedLookup } from '../../server/net/checked-lookup.ts';
import { createOutboundPolicy } from '../../server/net/outbound-policy.ts';
import { type Capture, type ForwardOptions, type ForwardResult, forwardConnections, forwardRequest } from '../../server/forward/request.ts';
import { SelfConnections } from '../../server/forward/self-connections.ts';

const pool = forwardConnections({ connections: 4, idleMs: 1000 });
afterAll(() => pool.destroy());

const capture = (o: Partial<Capture> = {}): Capture => ({ method: 'POST', path: '/', queryString: '', headers: ['Content-Type', 'text/plain'], body: Buffer.from('hi'), ...o });
const opts = (o: Partial<ForwardOptions> = {}): ForwardOptions => ({ timeoutMs: 5000, maxResponseBytes: 10, dispatcher: pool, ...o });

/** A raw TCP target: `answer` gets each chunk of request bytes, per connection. */
async function rawTarget(answer: (s: net.Socket, request: Buffer) => void) {
  const sockets = new Set<net.Socket>();
  const requests: Buffer[] = [];
  const peers: string[] = [];
  let connections = 0;
  const srv = net.createServer((s) => {
    connections++;
    sockets.add(s);
    peers.push(`${s.remoteAddress}:${s.remotePort}`);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.on('data', (d) => {
      requests.push(d);
      answer(s, d);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/t`,
    requests,
    peers,
    connections: () => connections,
    open: () => sockets.size,
    close: () => {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

const comparable = (r: ForwardResult) => ({ status: r.status, headers: r.headers, body: r.body.toString('latin1'), truncated: r.bodyTruncated, error: r.error, detail: r.errorDetail });

/** One exchange with a fresh target that answers each request with `answer`. */
async function exchange(answer: (s: net.Socket) => void, o: Partial<ForwardOptions> = {}, c = capture()) {
  const t = await rawTarget((s) => answer(s));
  try {
    return comparable(await forwardRequest(t.url, c, opts(o)));
  } finally {
    t.close();
  }
}

const reply = (raw: string, end = false) => (s: net.Socket) => {
  s.write(Buffer.from(raw, 'latin1'));
  if (end) s.end();
};

const ok = (status: number, headers: [string, string][], body: string, truncated = false) => ({ status, headers, body, truncated, error: null, detail: null });

describe('answers, as recorded', () => {
  it.each([
    ['content-length', reply('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'), ok(200, [['Content-Length', '3']], 'abc')],
    ['no reason phrase, HTTP/1.0', reply('HTTP/1.0 201\r\nContent-Length: 3\r\n\r\nabc'), ok(201, [['Content-Length', '3']], 'abc')],
    [
      'chunked, extensions and trailers',
      reply('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n'),
      ok(200, [['Transfer-Encoding', 'chunked']], 'abcde'),
    ],
    ['read until the connection closes', reply('HTTP/1.1 200 OK\r\n\r\nabc', true), ok(200, [], 'abc')],
    [
      'an interim 103 skipped, its headers not kept',
      reply('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 202 OK\r\nContent-Length: 1\r\n\r\nz'),
      ok(202, [['Content-Length', '1']], 'z'),
    ],
    ['204 carries no body', reply('HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n'), ok(204, [['Content-Length', '3']], '')],
    [
      'header names as sent, values trimmed, Latin-1 kept, empty kept, repeats kept',
      reply('HTTP/1.1 200 OK\r\nx-a:   spaced \t\r\nX-B: caf\xe9\r\nX-C:\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 0\r\n\r\n'),
      ok(200, [['x-a', 'spaced'], ['X-B', 'caf\xe9'], ['X-C', ''], ['Set-Cookie', 'a=1'], ['set-cookie', 'b=2'], ['Content-Length', '0']], ''),
    ],
    ['a redirect is recorded, not followed', reply('HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\nContent-Length: 0\r\n\r\n'), ok(302, [['Location', 'http://169.254.169.254/'], ['Content-Length', '0']], '')],
    ['a body past the cap is cut off', reply(`HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n${'x'.repeat(20)}`), ok(200, [['Content-Length', '20']], 'x'.repeat(10), true)],
    [
      'a chunked body past the cap is cut off',
      reply('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\naaaaaaaa\r\n8\r\nbbbbbbbb\r\n0\r\n\r\n'),
      ok(200, [['Transfer-Encoding', 'chunked']], 'aaaaaaaabb', true),
    ],
    ['a body of exactly the cap is whole', reply(`HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n${'y'.repeat(10)}`), ok(200, [['Content-Length', '10']], 'y'.repeat(10))],
  ])('%s', async (_name, answer, expected) => {
    expect(await exchange(answer)).toEqual(expected);
  });

  it.each([
    ['closed before an answer', (s: net.Socket) => s.end(), 'reset', 'connection closed without an answer'],
    ['closed mid-head', reply('HTTP/1.1 200 OK\r\nContent-Le', true), 'reset', 'connection closed without an answer'],
    ['reset before an answer', (s: net.Socket) => s.resetAndDestroy(), 'reset', 'connection reset by the target'],
    ['not HTTP', reply('hello world\r\n\r\n'), 'error', /^not a valid HTTP answer \(Expected HTTP\//],
    ['bad status', reply('HTTP/1.1 20 X\r\nContent-Length: 0\r\n\r\n'), 'error', 'not a valid HTTP answer (Invalid status code)'],
    ['bad header name', reply('HTTP/1.1 200 OK\r\nX A: b\r\nContent-Length: 3\r\n\r\nabc'), 'error', 'not a valid HTTP answer (Invalid header token)'],
    ['a control character in a header value', reply('HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n'), 'error', /^not a valid HTTP answer/],
    ['Transfer-Encoding with Content-Length', reply('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'), 'error', /^not a valid HTTP answer/],
    ['an unasked-for 100 Continue', reply('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz'), 'error', 'not a valid HTTP answer (a 100 Continue that was not asked for)'],
    ['no answer in time', () => {}, 'timeout', 'no answer within the timeout'],
  ])('%s: no status, %s', async (_name, answer, error, detail) => {
    // A short timeout only where it is the point (a loaded machine must not turn the others into timeouts).
    const r = await exchange(answer, { timeoutMs: error === 'timeout' ? 300 : 5000 });
    expect(r).toMatchObject({ status: null, headers: [], body: '', truncated: false, error });
    expect(r.detail).toMatch(detail);
  });

  // Cut off after its head: the head and what came are kept, marked truncated, with the error
  // (not taken for a whole answer: a proxied sender would get the 200 and the first bytes).
  it.each([
    ['closed cleanly mid-body', reply('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', true), 'reset', 'connection closed before the answer was complete'],
    [
      'reset mid-body',
      (s: net.Socket) => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
        setTimeout(() => s.resetAndDestroy(), 30);
      },
      'reset',
      'connection reset by the target before the answer was complete',
    ],
    ['a chunked body closed mid-chunk', reply('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc', true), 'reset', 'connection closed before the answer was complete'],
  ])('%s: the head and what came, truncated, %s', async (_name, answer, error, detail) => {
    const r = await exchange(answer);
    expect(r).toMatchObject({ status: 200, body: 'abc', truncated: true, error, detail });
  });

  it('a head, then nothing in time: the head and what came, truncated, recorded as a timeout', async () => {
    expect(await exchange(reply('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'), { timeoutMs: 300 })).toEqual({
      ...ok(200, [['Content-Length', '10']], 'abc', true),
      error: 'timeout',
      detail: 'answer not finished within the timeout',
    });
  });

  it('an endless body: cut at the cap, the connection closed, within the timeout', async () => {
    const t = await rawTarget((s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n');
      const chunk = Buffer.alloc(16 * 1024, 97);
      const more = () => {
        while (!s.destroyed && s.write(chunk));
        if (!s.destroyed) s.once('drain', more);
      };
      more();
    });
    try {
      const r = await forwardRequest(t.url, capture(), opts({ timeoutMs: 5000, maxResponseBytes: 65_536 }));
      expect(r).toMatchObject({ status: 200, bodyTruncated: true, error: null });
      expect(r.body.length).toBe(65_536);
      expect(r.durationMs).toBeLessThan(5000);
      await expect.poll(() => t.open(), { timeout: 2000 }).toBe(0);
    } finally {
      t.close();
    }
  });

  it('an answer split across reads at every byte', async () => {
    const raw = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
    const t = await rawTarget((s) => {
      let i = 0;
      const next = () => {
        if (i >= raw.length || s.destroyed) return;
        s.write(raw.subarray(i, ++i));
        setTimeout(next, 1);
      };
      next();
    });
    try {
      const r = await forwardRequest(t.url, capture(), opts({ timeoutMs: 5000, maxResponseBytes: 100 }));
      expect(comparable(r)).toEqual(ok(200, [['Transfer-Encoding', 'chunked'], ['X-A', 'b']], 'abcde'));
    } finally {
      t.close();
    }
  });

  it('HEAD: the answer\'s head, no body read (even one announced)', async () => {
    const t = await rawTarget((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'));
    try {
      const r = await forwardRequest(t.url, capture({ method: 'HEAD', body: Buffer.alloc(0) }), opts());
      expect(comparable(r)).toEqual(ok(200, [['Content-Length', '5']], ''));
      expect(t.requests[0].toString('latin1')).toMatch(/^HEAD \/t HTTP\/1\.1\r\n/);
    } finally {
      t.close();
    }
  });
});

describe('requests: the bytes that go out', () => {
  /** The request bytes the target got, for one forward of `c`. */
  async function sent(c: Capture, target = '/t') {
    const t = await rawTarget((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    try {
      const r = await forwardRequest(`http://127.0.0.1:${t.port}${target}`, c, opts());
      expect(r.status).toBe(200);
      return { raw: Buffer.concat(t.requests).toString('latin1'), host: `127.0.0.1:${t.port}` };
    } finally {
      t.close();
    }
  }

  it('a POST: method, path + sub-path + query, headers in order and case (Latin-1 bytes kept), Host and Content-Length set, the body byte-exact', async () => {
    const body = Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x80]);
    const { raw, host } = await sent(
      capture({ method: 'post', path: '/a/b', queryString: 'x=1&y=%20', headers: ['Host', 'original.example', 'X-A', 'caf\xe9', 'content-type', 'application/octet-stream', 'Content-Length', '99', 'X-Sig', 'v1,abc'], body }),
      '/base/?k=v',
    );
    expect(raw).toBe(
      `POST /base/a/b?k=v&x=1&y=%20 HTTP/1.1\r\nhost: ${host}\r\nconnection: keep-alive\r\nX-A: caf\xe9\r\ncontent-type: application/octet-stream\r\nX-Sig: v1,abc\r\ncontent-length: 7\r\n\r\n${body.toString('latin1')}`,
    );
  });

  it('hop-by-hop headers and Expect dropped, repeats kept in order', async () => {
    const { raw, host } = await sent(
      capture({ headers: ['Connection', 'keep-alive', 'X-R', 'a', 'Transfer-Encoding', 'chunked', 'Keep-Alive', 'timeout=5', 'x-r', 'b', 'Expect', '100-continue', 'TE', 'trailers', 'Proxy-Authorization', 'x', 'Upgrade', 'h2c', 'Trailer', 'X-T'] }),
    );
    expect(raw).toBe(`POST /t HTTP/1.1\r\nhost: ${host}\r\nconnection: keep-alive\r\nX-R: a\r\nx-r: b\r\ncontent-length: 2\r\n\r\nhi`);
  });

  it('a GET or DELETE without a body gets no Content-Length; an empty POST gets 0', async () => {
    expect((await sent(capture({ method: 'GET', headers: ['Accept', '*/*'], body: Buffer.alloc(0) }))).raw).toMatch(/^GET \/t HTTP\/1\.1\r\nhost: [^\r]+\r\nconnection: keep-alive\r\nAccept: \*\/\*\r\n\r\n$/);
    expect((await sent(capture({ method: 'DELETE', headers: [], body: Buffer.alloc(0) }))).raw).not.toMatch(/content-length/i);
    expect((await sent(capture({ method: 'POST', headers: [], body: Buffer.alloc(0) }))).raw).toMatch(/\r\ncontent-length: 0\r\n\r\n$/);
  });

  it.each([
    ['a method that is not a token', capture({ method: 'GE T' })],
    ['a header name that is not a token', capture({ headers: ['X A', 'b'] })],
    ['a header value with CR LF', capture({ headers: ['X-A', 'a\r\nX-Injected: 1'] })],
  ])('refuses %s: recorded as an error, nothing sent', async (_name, c) => {
    const t = await rawTarget((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    try {
      const r = await forwardRequest(t.url, c, opts());
      expect(r).toMatchObject({ status: null, error: 'error' });
      expect(r.errorDetail).toMatch(/^the request cannot be sent: invalid/);
      expect(t.connections()).toBe(0);
    } finally {
      t.close();
    }
  });

  it('refuses CONNECT (an edited replay can name it): it asks for a tunnel, not an answer; nothing sent', async () => {
    const t = await rawTarget((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    try {
      const r = await forwardRequest(t.url, capture({ method: 'connect' }), opts());
      expect(r).toMatchObject({ status: null, error: 'error', errorDetail: 'the request cannot be sent: CONNECT opens a tunnel, it has no answer to record' });
      expect(t.connections()).toBe(0);
    } finally {
      t.close();
    }
  });
});

describe('connections', () => {
  it('reuses kept-alive connections, and not one the target closes', async () => {
    const kept = await rawTarget((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    const closing = await rawTarget((s) => s.end('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));
    try {
      for (let i = 0; i < 8; i++) {
        expect((await forwardRequest(kept.url, capture(), opts())).status).toBe(200);
        expect((await forwardRequest(closing.url, capture(), opts())).status).toBe(200);
      }
      // undici lets a connection rest one turn of the event loop before reusing it, so one
      // request right after another may open a second; never one per request.
      expect(kept.connections()).toBeLessThanOrEqual(2);
      expect(closing.connections()).toBe(8);
    } finally {
      kept.close();
      closing.close();
    }
  });

  it('opens at most `connections` per origin, one request at a time on each; the rest wait their turn, in order', async () => {
    const small = forwardConnections({ connections: 2 });
    const order: string[] = [];
    let inFlight = 0;
    let most = 0;
    const t = await rawTarget((s, req) => {
      order.push(/X-N: (\d+)/.exec(req.toString())![1]);
      most = Math.max(most, ++inFlight);
      setTimeout(() => {
        inFlight--;
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      }, 20);
    });
    try {
      const all = Array.from({ length: 6 }, (_, i) => forwardRequest(t.url, capture({ headers: ['X-N', String(i)] }), opts({ timeoutMs: 2000, dispatcher: small })));
      expect((await Promise.all(all)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(t.connections()).toBe(2);
      expect(most).toBe(2);
      expect(order).toEqual(['0', '1', '2', '3', '4', '5']);
    } finally {
      await small.destroy();
      t.close();
    }
  });

  it('a request still waiting for a connection times out as one without an answer', async () => {
    const one = forwardConnections({ connections: 1 });
    const t = await rawTarget(() => {}); // never answers
    try {
      const first = forwardRequest(t.url, capture(), opts({ timeoutMs: 300, dispatcher: one }));
      const queued = forwardRequest(t.url, capture(), opts({ timeoutMs: 100, dispatcher: one }));
      expect(await queued).toMatchObject({ status: null, error: 'timeout' });
      expect(await first).toMatchObject({ status: null, error: 'timeout' });
      // The queued one, timed out, is never written.
      await new Promise((r) => setTimeout(r, 100));
      expect(t.requests).toHaveLength(1);
    } finally {
      await one.destroy();
      t.close();
    }
  });

  it('closes a connection left idle for idleMs', async () => {
    const quick = forwardConnections({ idleMs: 100 });
    const t = await rawTarget((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    try {
      await forwardRequest(t.url, capture(), opts({ dispatcher: quick }));
      expect(t.open()).toBe(1);
      await expect.poll(() => t.open(), { timeout: 2000 }).toBe(0);
    } finally {
      await quick.destroy();
      t.close();
    }
  });

  it('a target that is down: refused', async () => {
    const t = await rawTarget(() => {});
    t.close();
    await new Promise((r) => setTimeout(r, 50));
    // The detail says where (the code already says "refused"; the UI shows both, side by side).
    expect(await forwardRequest(t.url, capture(), opts())).toMatchObject({ status: null, error: 'refused', errorDetail: `nothing listens at 127.0.0.1:${t.port}` });
  });

  it('without a dispatcher (the CLI), a shared pool does the same', async () => {
    const t = await rawTarget((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    try {
      const r = await forwardRequest(t.url, capture(), { timeoutMs: 5000, maxResponseBytes: 10 });
      expect(comparable(r)).toEqual(ok(200, [['Content-Length', '2']], 'ok'));
    } finally {
      t.close();
    }
  });
});

describe('the outbound policy', () => {
  const publicOnly = createOutboundPolicy({ host: '0.0.0.0', allow: null, publicUrl: () => 'http://203.0.113.9:8080' });

  it('a host name that resolves to an address the policy refuses is blocked at connect time, nothing sent', async () => {
    const checked = forwardConnections({ lookup: checkedLookup(publicOnly) });
    const t = await rawTarget((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    try {
      const r = await forwardRequest(`http://localhost:${t.port}/t`, capture(), opts({ dispatcher: checked }));
      expect(r).toMatchObject({ status: null, error: 'blocked' });
      expect(r.errorDetail).toMatch(/localhost resolves to .*a loopback address/);
      expect(t.connections()).toBe(0);
    } finally {
      await checked.destroy();
      t.close();
    }
  });

  it('the same name through an allow-list that has it goes through', async () => {
    const allowed = forwardConnections({ lookup: checkedLookup(createOutboundPolicy({ host: '0.0.0.0', allow: ['127.0.0.1', '::1'], publicUrl: () => 'http://x' })) });
    const t = await rawTarget((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    try {
      expect((await forwardRequest(`http://localhost:${t.port}/t`, capture(), opts({ dispatcher: allowed }))).status).toBe(200);
    } finally {
      await allowed.destroy();
      t.close();
    }
  });

  it('a name that does not resolve: dns', async () => {
    expect(await forwardRequest('http://no-such-host.invalid/', capture(), opts({ timeoutMs: 5000 }))).toMatchObject({ status: null, error: 'dns' });
  });
});

describe('HTTPS', () => {
  // A self-signed certificate for localhost and 127.0.0.1 (test only; valid until 2126).
  const CERT = `-----BEGIN CERTIFICATE-----
MIIBnDCCAUGgAwIBAgIUWfjyTiUVUJsomSo+2W4yOfvF12swCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMTIwMDMyNFoYDzIxMjYxMTA3
MjAwMzI0WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASMc4W+iP4aXDhxKoqH7Pjx3arHWCExcXBN3MhsFfHB2exVXBNCF89o
L37alVu5Vywdi8WDH0eRzaTjl8F+bjjLo28wbTAdBgNVHQ4EFgQUF5WpRtnvY6jv
AO5gghZBdP6u0t8wHwYDVR0jBBgwFoAUF5WpRtnvY6jvAO5gghZBdP6u0t8wDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSQAwRgIhALJgoQK2CDFK8tVQ69DHEGGwYdcJI9bEMUQAjrfWQDzqAiEA
nw2v4fsahtavmQ1Urf66Q+1vb7AG6IiH6FlIPvdiCx4=
-----END CERTIFICATE-----
`;
  const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgt4iuSIrgBzb317P5
d43soGzgalmd3hQftASZ6w+GH4ihRANCAASMc4W+iP4aXDhxKoqH7Pjx3arHWCEx
cXBN3MhsFfHB2exVXBNCF89oL37alVu5Vywdi8WDH0eRzaTjl8F+bjjL
-----END PRIVATE KEY-----
`;

  async function tlsTarget() {
    const got: { url: string; headers: string[]; body: string }[] = [];
    const srv = https.createServer({ cert: CERT, key: KEY }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d) => chunks.push(d));
      req.on('end', () => {
        got.push({ url: req.url!, headers: req.rawHeaders, body: Buffer.concat(chunks).toString() });
        res.writeHead(201, [['X-Tls', 'yes']]).end('secure');
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return { srv, got, port: (srv.address() as net.AddressInfo).port };
  }

  it('a trusted target: sent over TLS, answer recorded', async () => {
    const trusting = forwardConnections({ ca: CERT });
    const t = await tlsTarget();
    try {
      const r = await forwardRequest(`https://localhost:${t.port}/s`, capture({ path: '/x', headers: ['X-Sig', 'abc'] }), opts({ dispatcher: trusting }));
      expect(comparable(r)).toMatchObject({ status: 201, body: 'secure', error: null });
      expect(r.headers.find(([k]) => k === 'X-Tls')).toEqual(['X-Tls', 'yes']);
      expect(t.got).toEqual([{ url: '/s/x', headers: ['host', `localhost:${t.port}`, 'connection', 'keep-alive', 'X-Sig', 'abc', 'content-length', '2'], body: 'hi' }]);
    } finally {
      await trusting.destroy();
      t.srv.close();
    }
  });

  it('a certificate that is not trusted: an error naming it, nothing sent', async () => {
    const t = await tlsTarget();
    try {
      const r = await forwardRequest(`https://localhost:${t.port}/s`, capture(), opts());
      expect(r).toMatchObject({ status: null, error: 'error', errorDetail: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
      expect(t.got).toHaveLength(0);
    } finally {
      t.srv.close();
    }
  });
});

describe('the socket each request went out on (loop detection)', () => {
  it('is noted (SelfConnections) while its request is in flight, whether the connection is new or reused, and only then', async () => {
    const self = new SelfConnections();
    const verdicts: boolean[] = [];
    // The target checks, as hooklab's receiver does, whether the request came from a forward in flight.
    const t = await rawTarget((s) => {
      verdicts.push(self.isOwn(s, 'POST', '/t'));
      setTimeout(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 5);
    });
    const tracked = () => opts({ onSocket: (s, method, path) => self.track(s, method, path) });
    try {
      for (let i = 0; i < 6; i++) await forwardRequest(t.url, capture(), tracked());
      await Promise.all(Array.from({ length: 4 }, () => forwardRequest(t.url, capture(), tracked())));
      expect(verdicts).toEqual(Array(10).fill(true));
      expect(t.connections()).toBeLessThan(10); // some went out on a reused connection
      expect(self.size).toBe(0); // all released
      // Not noted: the same pooled connections used without onSocket (a replay to hooklab itself).
      for (let i = 0; i < 4; i++) await forwardRequest(t.url, capture(), opts());
      expect(verdicts.slice(10)).toEqual([false, false, false, false]);
    } finally {
      t.close();
    }
  });

  it('a request from a noted address:port with another request line is not ours (the kernel shares a local port across destinations)', () => {
    const self = new SelfConnections();
    const out = Object.assign(new EventEmitter(), { localAddress: '::ffff:127.0.0.1', localPort: 40000 }) as unknown as net.Socket;
    const release = self.track(out, 'POST', '/h/abc/x?y=1');
    // Another client, connected to hooklab from the same port (its connection goes elsewhere than ours).
    const inbound = { remoteAddress: '127.0.0.1', remotePort: 40000 } as net.Socket;
    expect(self.isOwn(inbound, 'POST', '/h/other')).toBe(false);
    expect(self.isOwn(inbound, 'GET', '/h/abc/x?y=1')).toBe(false);
    // Our forward, come back in.
    expect(self.isOwn(inbound, 'POST', '/h/abc/x?y=1')).toBe(true);
    expect(self.isOwn({ remoteAddress: '127.0.0.1', remotePort: 40001 } as net.Socket, 'POST', '/h/abc/x?y=1')).toBe(false);
    release();
    expect(self.isOwn(inbound, 'POST', '/h/abc/x?y=1')).toBe(false);
    expect(self.size).toBe(0);
  });

  it('released when the request fails or times out', async () => {
    const self = new SelfConnections();
    const t = await rawTarget(() => {});
    try {
      expect(await forwardRequest(t.url, capture(), opts({ onSocket: (s, method, path) => self.track(s, method, path), timeoutMs: 100 }))).toMatchObject({ error: 'timeout' });
      expect(self.size).toBe(0);
    } finally {
      t.close();
    }
  });
});
