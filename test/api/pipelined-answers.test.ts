// A bin's answers on one connection with pipelined requests (HTTP/1.1 answers go in request
// order): a fault on a later request must not drop the answers owed to earlier ones, and an
// answer that never left must not be recorded as answered. Raw sockets over loopback.
import net from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnswerOutcome, RequestDetail, RequestItem } from '../../shared/api.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/until.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ storage: 'memory', config: { hangTimeoutMs: 60_000 } });
});
afterAll(() => srv.cleanup());

async function binWith(settings: object, s = srv) {
  const bin = await createBin(s.base);
  await request(s.base).put(`/api/bins/${bin.id}/response`).send(settings).expect(200);
  return bin;
}

/** Write the POSTs to `paths` at once on one socket; resolve with every byte read once it closes. */
function pipeline(binUrl: string, paths: string[], hangUpAfterMs?: number): Promise<string> {
  const u = new URL(binUrl);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port), u.hostname);
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => {}); // a reset is what some of these tests ask for
    s.on('close', () => resolve(got));
    s.write(paths.map((p) => `POST ${u.pathname}${p} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: 1\r\n\r\nx`).join(''));
    if (hangUpAfterMs !== undefined) setTimeout(() => s.destroy(), hangUpAfterMs);
  });
}

async function answers(binId: string, n: number, s = srv): Promise<Record<string, AnswerOutcome>> {
  let list: RequestItem[] = [];
  await until(async () => (list = (await request(s.base).get(`/api/bins/${binId}/requests`).expect(200)).body.requests).length === n, `${n} captures`);
  return Object.fromEntries(list.map((r) => [r.path, r.answer]));
}

const statusLines = (raw: string) => [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

describe('pipelined requests and faults', () => {
  it('a reset waits for the answers owed to earlier requests; an answer queued behind it is recorded as never sent', async () => {
    const bin = await binWith({ plan: [{ status: 200, delayMs: 300, body: 'A' }, { fault: 'reset' }, { status: 503 }] });
    const raw = await pipeline(bin.url, ['/1', '/2', '/3']);
    // Request 1's answer, whole, then the connection goes: nothing for 2 (the reset) or 3.
    expect(statusLines(raw)).toEqual([200]);
    expect(raw.endsWith('\r\n\r\nA')).toBe(true);
    // Its record may be written just after the socket closed: wait for the mark.
    await until(async () => (await answers(bin.id, 3))['/3'].hungUpAfterMs !== undefined, 'request 3 marked as not sent');
    const a = await answers(bin.id, 3);
    expect(a['/1']).toMatchObject({ status: 200, delayMs: 300 });
    expect(a['/1'].hungUpAfterMs).toBeUndefined();
    expect(a['/2']).toMatchObject({ status: null, fault: 'reset' });
    expect(a['/2'].hungUpAfterMs).toBeUndefined();
    // Not the sender's doing: hooklab closed the connection for request 2's reset.
    expect(a['/3']).toMatchObject({ status: 503, closedByFault: 'reset' });
  });

  it('a reset on the first request leaves the ones pipelined behind it recorded as never answered', async () => {
    const bin = await binWith({ plan: [{ fault: 'reset' }] });
    const raw = await pipeline(bin.url, ['/1', '/2']);
    expect(raw).toBe('');
    await until(async () => (await answers(bin.id, 2))['/2'].hungUpAfterMs !== undefined, 'request 2 marked as not sent');
    const a = await answers(bin.id, 2);
    expect(a['/1'].hungUpAfterMs).toBeUndefined();
    expect(a['/2']).toMatchObject({ status: 200, closedByFault: 'reset' });
  });

  it('behind a hang (timeout), answers are never sent: hooklab ending the hang marks them, the hang itself is no hang-up', async () => {
    const s = await startServer({ storage: 'memory', config: { hangTimeoutMs: 300 } });
    try {
      const bin = await binWith({ plan: [{ fault: 'timeout' }, { status: 201 }] }, s);
      const raw = await pipeline(bin.url, ['/1', '/2', '/3']);
      expect(raw).toBe('');
      await until(async () => (await answers(bin.id, 3, s))['/3'].hungUpAfterMs !== undefined, 'request 3 marked as not sent');
      const a = await answers(bin.id, 3, s);
      expect(a['/1']).toMatchObject({ status: null, fault: 'timeout' });
      expect(a['/1'].hungUpAfterMs).toBeUndefined();
      expect(a['/2']).toMatchObject({ status: 201, closedByFault: 'timeout' });
      expect(a['/3']).toMatchObject({ status: 200, closedByFault: 'timeout' });
      expect(a['/2'].hungUpAfterMs).toBeGreaterThanOrEqual(250);
    } finally {
      await s.cleanup();
    }
  });

  it('a sender that hangs up while answers wait behind a slow one: every answer not sent says so', async () => {
    const bin = await binWith({ plan: [{ status: 200, delayMs: 5000 }, { status: 201 }] });
    const raw = await pipeline(bin.url, ['/1', '/2', '/3'], 300);
    expect(raw).toBe('');
    await until(async () => Object.values(await answers(bin.id, 3)).every((x) => x.hungUpAfterMs !== undefined), 'all three marked');
    const a = await answers(bin.id, 3);
    expect(a['/2']).toMatchObject({ status: 201 });
    expect(a['/3']).toMatchObject({ status: 200 });
    // The sender's close: no fault named.
    for (const p of ['/1', '/2', '/3']) expect(a[p].closedByFault, p).toBeUndefined();
  });

  it('a delayed answer queued behind a slower one is not taken as sent by a status wait until it was written', async () => {
    // Request 2's delay ends long before request 1's: its answer is then held behind request 1's.
    const bin = await binWith({ plan: [{ status: 200, delayMs: 5000, body: 'A' }, { status: 201, delayMs: 100, body: 'B' }] });
    const u = new URL(bin.url);
    const startedAt = Date.now();
    const s = net.connect(Number(u.port), u.hostname);
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => {});
    try {
      s.write(['/1', '/2'].map((p) => `POST ${u.pathname}${p} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: 1\r\n\r\nx`).join(''));
      const second = (await answers(bin.id, 2))['/2'];
      expect(second).toMatchObject({ status: 201, delayMs: 100 });
      const list = (await request(srv.base).get(`/api/bins/${bin.id}/requests?path=/2`).expect(200)).body.requests as RequestItem[];
      const id2 = list[0].id;
      // Well past request 2's 100 ms delay, request 1's answer (and so request 2's) still unsent:
      // each scan of a status wait must leave it (before: taken from the store once its timer ended).
      for (let i = 0; i < 4; i++) {
        const w = await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?status=201&timeout=300ms`);
        expect(w.status, `wait ${i}`).toBe(408);
      }
      expect(got).toBe('');
      expect(srv.app.waiters.answerDelayed(id2)).toBe(true);
      // Once written (after request 1's), the wait has it.
      const w = await request(srv.base).get(`/api/bins/${bin.id}/requests/wait?status=201&timeout=30s`);
      expect(w.status).toBe(200);
      expect((w.body as RequestDetail).id).toBe(id2);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(4000);
      await expect.poll(() => statusLines(got)).toEqual([200, 201]);
      expect(srv.app.waiters.answerDelayed(id2)).toBe(false);
    } finally {
      s.destroy();
    }
  });

  it('answers pipelined behind a slow one all go, in order, and none is marked', async () => {
    const bin = await binWith({ plan: [{ status: 200, delayMs: 200, body: 'A' }, { status: 202, body: 'B' }] });
    const u = new URL(bin.url);
    const raw = await new Promise<string>((resolve) => {
      const s = net.connect(Number(u.port), u.hostname);
      let got = '';
      s.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (statusLines(got).length === 2 && got.endsWith('B')) s.end();
      });
      s.on('close', () => resolve(got));
      s.write(['/1', '/2'].map((p) => `POST ${u.pathname}${p} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: 1\r\n\r\nx`).join(''));
    });
    expect(statusLines(raw)).toEqual([200, 202]);
    await new Promise((r) => setTimeout(r, 200));
    const a = await answers(bin.id, 2);
    expect(a['/1'].hungUpAfterMs).toBeUndefined();
    expect(a['/2'].hungUpAfterMs).toBeUndefined();
  });
});
