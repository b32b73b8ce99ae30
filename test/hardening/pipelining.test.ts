// HTTP pipelining within bounds (MAX_PIPELINED, server/http/pipelining.ts): requests sent on one
// connection before the answers to earlier ones. Within the bound they are answered in order
// as ever; past it the connection is closed (nothing unanswered was acknowledged), and
// everyone else is served meanwhile. Before, 100,000 of them were all taken in at once
// (hundreds of MB, seconds-long stalls for everyone: see the README's budget table).
import net from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
const MAX = 8;

beforeAll(async () => {
  srv = await startServer({ config: { maxPipelined: MAX, maxRequestsPerBin: 100_000 } });
});
afterAll(() => srv.cleanup());

/** Write `n` pipelined POSTs to `path` at once; read until the server closes or `quietMs` pass with nothing new. */
function pipeline(path: string, n: number, quietMs = 1500): Promise<string> {
  const u = new URL(srv.base);
  const one = `POST ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: 2\r\n\r\nhi`;
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => s.write(one.repeat(n)));
    let out = '';
    let timer = setTimeout(() => s.destroy(), quietMs);
    s.on('data', (d) => {
      out += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => s.destroy(), quietMs);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(out) : reject(e)));
  });
}

const statuses = (raw: string) => [...raw.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => Number(m[1]));

describe('HTTP pipelining (MAX_PIPELINED)', () => {
  it('pipelined requests within the bound are all answered 200, in order, and all captured', async () => {
    const bin = await createBin(srv.base);
    const got = statuses(await pipeline(`/h/${bin.id}/p`, MAX));
    expect(got).toEqual(new Array(MAX).fill(200));
    expect((await request(srv.base).get(`/api/bins/${bin.id}`).expect(200)).body.requestCount).toBe(MAX);
  });

  it('a flood of 3,000 on one connection: once more than the bound wait for their answers, the connection is closed; every one answered 200 was captured, and others are served meanwhile', async () => {
    const bin = await createBin(srv.base);
    const flood = pipeline(`/h/${bin.id}/p`, 3000);
    await request(srv.base).get('/api/health').expect(200);
    const got = statuses(await flood);
    // Before: all 3,000 taken in, and answered.
    expect(got.length).toBeLessThan(3000);
    expect(got.every((x) => x === 200)).toBe(true);
    expect((await request(srv.base).get(`/api/bins/${bin.id}`).expect(200)).body.requestCount).toBeGreaterThanOrEqual(got.length);
    await request(srv.base).get('/api/health').expect(200);
  });

  it('the guard: a connection with the bound waiting is closed at the next one; answers that go make room', async () => {
    const { pipelineGuard } = await import('../../server/http/pipelining.ts');
    const { EventEmitter } = await import('node:events');
    const socket = { destroyed: false, destroy() { this.destroyed = true; } };
    const g = pipelineGuard(3);
    const answers = Array.from({ length: 3 }, () => new EventEmitter());
    for (const res of answers) expect(g.admit({ socket } as never, res as never)).toBe(true);
    answers[0].emit('close');
    expect(g.admit({ socket } as never, new EventEmitter() as never)).toBe(true); // 3 waiting again
    expect(socket.destroyed).toBe(false);
    expect(g.admit({ socket } as never, new EventEmitter() as never)).toBe(false); // a 4th
    expect(socket.destroyed).toBe(true);
  });
});
