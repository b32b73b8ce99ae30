// A body announced is not a body held: the receiver's memory budget (MAX_BUFFERED_BYTES) counts
// a request's bytes as they arrive. Before, a head announcing 1 MiB reserved 1 MiB at once, so
// 64 connections that sent heads and nothing more (well within one client's connection cap)
// held the whole 64 MiB, and every sender to every bin got 503 busy until they timed out.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

const MIB = 1024 * 1024;
let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ config: { maxBodyBytes: MIB, maxBufferedBytes: 3.5 * MIB } });
});
afterAll(() => srv.cleanup());

/** A connection that sends a request head announcing `length` body bytes, then `sent` of them, and waits. */
async function announce(url: string, length: number, sent = 0): Promise<net.Socket> {
  const u = new URL(url);
  const s = net.connect(Number(u.port), u.hostname);
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  s.write(`POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: ${length}\r\n\r\n`);
  if (sent) s.write(Buffer.alloc(sent, 97));
  return s;
}

/** What a head announcing `length` body bytes (none sent) is answered within 1 s ('' if nothing). */
async function headAnswer(url: string, length: number): Promise<string> {
  const s = await announce(url, length);
  let answer = '';
  s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  await new Promise((r) => setTimeout(r, 1000));
  s.destroy();
  return answer;
}

describe('the body budget and announced bodies', () => {
  it('heads announcing far more than the budget, with no body, hold none of it: other senders are captured', async () => {
    const bin = await createBin(srv.base);
    const silent = await Promise.all(Array.from({ length: 16 }, (_, i) => announce(`${bin.url}/hold${i}`, MIB)));
    try {
      // 16 MiB announced against a 3.5 MiB budget: the server has read every head.
      await new Promise((r) => setTimeout(r, 300));
      const r = await send(`${bin.url}/victim`, { body: 'hi' });
      expect(r.status).toBe(200);
      const big = await send(`${bin.url}/victim-big`, { body: Buffer.alloc(MIB, 1) });
      expect(big.status).toBe(200);
    } finally {
      for (const s of silent) s.destroy();
    }
  });

  it('bytes that did arrive still count: a body announced past what is left gets 503 busy with Retry-After before it is read, and is taken once they go', async () => {
    const bin = await createBin(srv.base);
    // Three uploads, each 1 byte short of its 1 MiB: 3 MiB of the 3.5 MiB budget, held.
    const held = await Promise.all(Array.from({ length: 3 }, (_, i) => announce(`${bin.url}/held${i}`, MIB, MIB - 1)));
    try {
      // A head announcing 1 MiB (its body never sent: it takes nothing) is refused once they are in.
      await expect.poll(() => headAnswer(`${bin.url}/probe`, MIB), { timeout: 30_000 }).toMatch(/^HTTP\/1\.1 503 /);
      const refused = await headAnswer(`${bin.url}/probe`, MIB);
      expect(refused).toMatch(/\r\nretry-after: 2\r\n/i);
      expect(refused).toContain('"code":"busy"');
      // What is left still takes a small one.
      expect((await send(`${bin.url}/small`, { body: Buffer.alloc(1000, 1) })).status).toBe(200);
    } finally {
      for (const s of held) s.destroy();
    }
    await expect.poll(async () => (await send(`${bin.url}/after`, { body: Buffer.alloc(MIB, 1) })).status).toBe(200);
  });
});
