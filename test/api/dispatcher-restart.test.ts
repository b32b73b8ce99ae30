// Issue 4: deliveries owed when the server stops are attempted after it starts again, on
// time, with the same webhook-id. The receiver is a separate hooklab that stays up.
import { rm } from 'node:fs/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery, RequestPage } from '../../shared/api.ts';
import { deliveriesOf, until } from '../helpers/dispatch.ts';
import { createBin, json, startServer, tempDir, type TestServer } from '../helpers/server.ts';

let receiver: TestServer;
const dirs: string[] = [];
beforeAll(async () => {
  receiver = await startServer({ storage: 'memory' });
});
afterAll(async () => {
  await receiver.cleanup();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function setup() {
  const dataDir = await tempDir();
  dirs.push(dataDir);
  const bin = await createBin(receiver.base);
  await request(receiver.base).put(`/api/bins/${bin.id}/response`).send({ plan: [{ status: 500 }] }).expect(200);
  const a = await startServer({ dataDir });
  await json(a.base, 'PUT', '/api/clock', { paused: true });
  const w = (await request(a.base).post('/api/webhooks').send({ url: bin.url, events: ['flow_started'] }).expect(201)).body;
  await request(a.base).post('/api/runs').send({}).expect(201);
  const [d0] = await deliveriesOf(a.base, `?webhookId=${w.id}`);
  const d1 = await until(() => json<Delivery>(a.base, 'GET', `/api/deliveries/${d0.id}`).then((r) => r.body), (d) => d.attempts.length === 1);
  expect(d1).toMatchObject({ state: 'pending' });
  expect(d1.attempts[0].status).toBe(500);
  await a.stop();
  return { dataDir, bin, d1 };
}

async function receivedIds(binId: string) {
  const page = (await json<RequestPage>(receiver.base, 'GET', `/api/bins/${binId}/requests?limit=100`)).body;
  return page.requests.map((r) => r.headers.find(([n]) => n === 'webhook-id')?.[1]);
}

describe('dispatcher restart', () => {
  it('a pending delivery resumes after a restart, at its planned time, stepping the clock', async () => {
    const { dataDir, bin, d1 } = await setup();
    const b = await startServer({ dataDir });
    try {
      const clock = (await json<{ paused: boolean; nextDueAt: string }>(b.base, 'GET', '/api/clock')).body;
      expect(clock.paused).toBe(true); // the clock's state survived
      expect(clock.nextDueAt).toBe(d1.nextAttemptAt);
      await json(b.base, 'POST', '/api/clock/advance', { to: 'next' });
      const d = (await json<Delivery>(b.base, 'GET', `/api/deliveries/${d1.id}`)).body;
      expect(d.state).toBe('delivered');
      expect(d.attempts.map((a) => a.status)).toEqual([500, 200]);
      expect(d.attempts[1].sentAt).toBe(d1.nextAttemptAt);
      expect(await receivedIds(bin.id)).toEqual([d1.webhookMessageId, d1.webhookMessageId]);
    } finally {
      await b.stop();
    }
  });

  it('a restart mid-schedule at 86400x: every attempt is made at its planned instant, none skipped, the last on the 24 h deadline', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const bin = await createBin(receiver.base);
    await request(receiver.base).put(`/api/bins/${bin.id}/response`).send({ default: { status: 500 } }).expect(200);
    const a = await startServer({ dataDir });
    const w = (await request(a.base).post('/api/webhooks').send({ url: bin.url, events: ['flow_started'] }).expect(201)).body;
    await json(a.base, 'PUT', '/api/clock', { paused: true });
    for (let i = 0; i < 5; i++) await request(a.base).post('/api/runs').send({}).expect(201);
    // 24 h in 1 s: stopped a few attempts in, down for 3 s (72 virtual hours at that speed).
    await json(a.base, 'PUT', '/api/clock', { paused: false, scale: 86_400 });
    const mid = await until(
      () => deliveriesOf(a.base, `?webhookId=${w.id}`),
      (ds) => ds.length === 5 && ds.every((d) => d.attempts.length >= 3),
    );
    await a.stop();
    expect(mid.filter((d) => d.state === 'pending').length).toBeGreaterThan(0); // stopped mid-schedule
    await new Promise((r) => setTimeout(r, 3000));
    const b = await startServer({ dataDir });
    try {
      const ds = await until(
        () => deliveriesOf(b.base, `?webhookId=${w.id}`),
        (x) => x.length === 5 && x.every((d) => d.state !== 'pending'),
      );
      for (const d of ds) {
        expect(d.state).toBe('failed');
        expect(d.attempts.map((x) => x.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(d.attempts.map((x) => x.sentAt)).toEqual(d.plannedAt);
        expect(Date.parse(d.attempts[8].sentAt)).toBe(Date.parse(d.createdAt) + 86_400_000);
      }
    } finally {
      await b.stop();
    }
  });

  it('a clock nobody changed: attempts that fell due while the server was down are made at their planned instants after it starts again', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const bin = await createBin(receiver.base);
    await request(receiver.base).put(`/api/bins/${bin.id}/response`).send({ default: { status: 500 } }).expect(200);
    // No PUT /api/clock: a fresh install's clock, never saved until this fix.
    const a = await startServer({ dataDir });
    const w = (await request(a.base).post('/api/webhooks').send({ url: bin.url, events: ['flow_started'], schedule: { delaysMs: [1000, 1000, 1000, 1000] } }).expect(201)).body;
    await request(a.base).post('/api/runs').send({}).expect(201);
    const [d0] = await deliveriesOf(a.base, `?webhookId=${w.id}`);
    await until(() => json<Delivery>(a.base, 'GET', `/api/deliveries/${d0.id}`).then((r) => r.body), (d) => d.attempts.length >= 1);
    await a.stop();
    // Down past the next attempts' instants.
    await new Promise((r) => setTimeout(r, 2500));
    const b = await startServer({ dataDir });
    try {
      const d = await until(() => json<Delivery>(b.base, 'GET', `/api/deliveries/${d0.id}`).then((r) => r.body), (x) => x.state !== 'pending');
      expect(d.state).toBe('failed');
      expect(d.attempts.map((x) => x.n)).toEqual([1, 2, 3, 4, 5]);
      // Before: the clock after the restart started at the restart's instant, past the owed
      // attempts: they were stamped late and went out back to back.
      expect(d.attempts.map((x) => x.sentAt)).toEqual(d.plannedAt);
    } finally {
      await b.stop();
    }
  });

  it('with the clock running, the owed attempt fires by itself after the restart', async () => {
    const { dataDir, bin, d1 } = await setup();
    const b = await startServer({ dataDir });
    try {
      // 5 s of virtual time pass in well under a millisecond at this speed.
      await json(b.base, 'PUT', '/api/clock', { paused: false, scale: 1_000_000 });
      const d = await until(() => json<Delivery>(b.base, 'GET', `/api/deliveries/${d1.id}`).then((r) => r.body), (x) => x.state !== 'pending');
      expect(d.state).toBe('delivered');
      expect(d.attempts).toHaveLength(2);
      expect(Date.parse(d.attempts[1].sentAt)).toBeGreaterThanOrEqual(Date.parse(d1.nextAttemptAt!));
      expect(await receivedIds(bin.id)).toHaveLength(2);
    } finally {
      await b.stop();
    }
  });
});
