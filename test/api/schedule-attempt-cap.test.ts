// A schedule that plans more attempts than MAX_SCHEDULE_ATTEMPTS (default 200) was cut there
// without a word: "every minute for 24 h" made 199 attempts a minute apart, then one 20.7 h
// later on the deadline. Now a webhook save and the preview refuse it (400, naming the field),
// and a webhook stored before (or made under a higher limit) keeps working and says so.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery, SchedulePreview, Webhook } from '../../shared/api.ts';
import * as D from '../../shared/schema/dispatch.ts';
import { LowdbStore } from '../../server/store/lowdb.ts';
import { deliveriesOf } from '../helpers/dispatch.ts';
import { json, startServer, tempDir, type TestServer } from '../helpers/server.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const URL_ = 'http://127.0.0.1:9/x';
type ErrorBody = { error: { code: string; message: string; field?: string } };

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

describe('a schedule past MAX_SCHEDULE_ATTEMPTS (200 by default)', () => {
  it('the preview refuses it, naming the field, the count and what to change', async () => {
    const r = await json<ErrorBody>(srv.base, 'GET', '/api/schedule/preview?firstDelayMs=60000&factor=1&jitter=0');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'invalid_field', field: 'firstDelayMs' });
    expect(r.body.error.message).toBe(
      'firstDelayMs: plans 1441 attempts per delivery; at most 200 (MAX_SCHEDULE_ATTEMPTS): raise firstDelayMs or factor, or shorten deadlineMs',
    );
    // With jitter, the most any seed can plan (every wait at its shortest) counts.
    const j = await json<ErrorBody>(srv.base, 'GET', '/api/schedule/preview?firstDelayMs=600000&factor=1&jitter=0.5');
    expect(j.status).toBe(400);
    expect(j.body.error.message).toMatch(/^firstDelayMs: can plan up to 289 attempts per delivery \(every wait jittered to its shortest\); at most 200/);
  });

  it("the README's example (every minute, the default jitter) gets the words the README quotes", async () => {
    // It quoted the count without jitter ("plans 1441"); the server counts every wait at its shortest.
    const made = await json<ErrorBody>(srv.base, 'POST', '/api/webhooks', { url: URL_, schedule: { firstDelayMs: MIN, factor: 1 } });
    expect(made.status).toBe(400);
    const words = made.body.error.message.replace(/^schedule\.firstDelayMs: /, '');
    expect(words).toMatch(/^can plan up to 1801 attempts per delivery/);
    const readme = (await readFile(path.resolve(import.meta.dirname, '../../README.md'), 'utf8')).replace(/\s+/g, ' ');
    const example = '`{"firstDelayMs": 60000, "factor": 1}`';
    const at = readme.indexOf(example);
    expect(at).toBeGreaterThan(-1);
    // Only the example's sentence, so a mismatch shows it rather than the whole README.
    expect(readme.slice(at, at + 400)).toContain(`gets **400** on \`schedule.firstDelayMs\`, "${words}"`);
  });

  it('up to the limit is fine: 200 attempts, the last on the deadline; 201 is refused', async () => {
    // 435 s apart: 199 retries fit before 24 h, the 200th attempt lands on the deadline.
    const ok = await json<SchedulePreview>(srv.base, 'GET', '/api/schedule/preview?firstDelayMs=435000&factor=1&jitter=0');
    expect(ok.status).toBe(200);
    expect(ok.body.attempts).toHaveLength(200);
    expect(ok.body.attempts.at(-1)).toMatchObject({ offsetMs: DAY, reason: 'deadline' });
    expect(ok.body.attempts.at(-2)!.offsetMs).toBe(198 * 435_000);
    const over = await json<ErrorBody>(srv.base, 'GET', '/api/schedule/preview?firstDelayMs=434000&factor=1&jitter=0');
    expect(over.status).toBe(400);
    expect(over.body.error.message).toContain('plans 201 attempts');
  });

  it('a webhook save refuses it (POST and PATCH), on the field given', async () => {
    const made = await json<ErrorBody>(srv.base, 'POST', '/api/webhooks', { url: URL_, schedule: { firstDelayMs: MIN, factor: 1, jitter: 0 } });
    expect(made.status).toBe(400);
    expect(made.body.error).toMatchObject({ code: 'invalid_field', field: 'schedule.firstDelayMs' });
    expect(made.body.error.message).toContain('schedule.firstDelayMs: plans 1441 attempts per delivery; at most 200 (MAX_SCHEDULE_ATTEMPTS)');
    const w = (await json<Webhook>(srv.base, 'POST', '/api/webhooks', { url: URL_, schedule: { preset: 'linear' } })).body;
    // linear is hourly: over 30 days that is 721 attempts.
    const longer = await json<ErrorBody>(srv.base, 'PATCH', `/api/webhooks/${w.id}`, { schedule: { preset: 'linear', deadlineMs: 30 * DAY } });
    expect(longer.status).toBe(400);
    expect(longer.body.error).toMatchObject({ field: 'schedule.deadlineMs' });
    expect(longer.body.error.message).toContain('plans 721 attempts');
    expect((await json<Webhook>(srv.base, 'GET', `/api/webhooks/${w.id}`)).body.schedule).toEqual({ preset: 'linear' });
    await json(srv.base, 'DELETE', `/api/webhooks/${w.id}`);
  });
});

describe('MAX_SCHEDULE_ATTEMPTS set lower', () => {
  let low: TestServer;
  beforeAll(async () => {
    low = await startServer({ config: { maxScheduleAttempts: 20 } });
  });
  afterAll(() => low.cleanup());

  it('a list of waits longer than the limit is refused on delaysMs; one that fits is saved', async () => {
    const waits = Array.from({ length: 25 }, () => 1000);
    const r = await json<ErrorBody>(low.base, 'POST', '/api/webhooks', { url: URL_, schedule: { delaysMs: waits } });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ field: 'schedule.delaysMs' });
    expect(r.body.error.message).toBe('schedule.delaysMs: plans 26 attempts per delivery; at most 20 (MAX_SCHEDULE_ATTEMPTS): give fewer waits, or a shorter deadlineMs');
    const p = await json<ErrorBody>(low.base, 'GET', `/api/schedule/preview?delaysMs=${waits.join(',')}`);
    expect(p.status).toBe(400);
    expect(p.body.error.field).toBe('delaysMs');
    expect((await json(low.base, 'POST', '/api/webhooks', { url: URL_, schedule: { delaysMs: waits.slice(0, 19) } })).status).toBe(201);
  });
});

describe('a webhook stored before the limit was checked', () => {
  it('keeps working, cut at the limit as before, and the webhook, its preview and a PATCH say so', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, flushIntervalMs: 10, maxRequestsPerBin: 100, maxStoreBytes: 1e9, cacheBytes: 1e7, maxFinishedDeliveries: 100 });
    const at = '2026-01-01T00:00:00.000Z';
    await store.webhooks.put({
      id: 'wh_minutely', name: 'minutely', url: URL_, enabled: true, events: ['flow_started'], secret: null, previousSecret: null, successPolicy: '200',
      schedule: { firstDelayMs: MIN, factor: 1, jitter: 0 }, behaviors: {}, disabledBy: null, failing: null, timeoutMs: null, createdAt: at, updatedAt: at,
    });
    await store.close();
    const s2 = await startServer({ dataDir });
    try {
      const cut = 'This schedule plans 1441 attempts per delivery, more than MAX_SCHEDULE_ATTEMPTS (200): a delivery makes the first 199, then one on the deadline.';
      const w = (await json<Webhook>(s2.base, 'GET', '/api/webhooks/wh_minutely')).body;
      expect(D.Webhook.safeParse(w).success).toBe(true);
      expect(w.scheduleNote).toBe(cut);
      const p = await json<SchedulePreview>(s2.base, 'GET', '/api/schedule/preview?webhookId=wh_minutely');
      expect(p.status).toBe(200);
      expect(p.body.attempts).toHaveLength(200);
      expect(p.body.notes).toContain(cut);
      // Other changes are not refused for it (it could not even be turned off else).
      const renamed = await json<Webhook>(s2.base, 'PATCH', '/api/webhooks/wh_minutely', { name: 'still minutely' });
      expect(renamed.status).toBe(200);
      expect(renamed.body.scheduleNote).toBe(cut);
      // Nor the schedule sent back as it is, in another key order, as the console's form does
      // with every change: turning it off from there was refused on schedule.firstDelayMs.
      const off = await json<Webhook>(s2.base, 'PATCH', '/api/webhooks/wh_minutely', { enabled: false, schedule: { jitter: 0, factor: 1, firstDelayMs: MIN } });
      expect(off.status).toBe(200);
      expect(off.body.enabled).toBe(false);
      expect((await json(s2.base, 'PATCH', '/api/webhooks/wh_minutely', { enabled: true })).status).toBe(200);
      // A query that changes nothing of it shows it cut; one that changes it is refused on what it gives.
      const same = await json<SchedulePreview>(s2.base, 'GET', '/api/schedule/preview?webhookId=wh_minutely&jitter=0');
      expect(same.status).toBe(200);
      expect(same.body.notes).toContain(cut);
      const faster = await json<{ error: { field: string } }>(s2.base, 'GET', `/api/schedule/preview?webhookId=wh_minutely&firstDelayMs=${MIN / 2}`);
      expect([faster.status, faster.body.error.field]).toEqual([400, 'firstDelayMs']);
      const changed = await json<{ error: { field: string } }>(s2.base, 'PATCH', '/api/webhooks/wh_minutely', { schedule: { firstDelayMs: MIN / 2, factor: 1, jitter: 0 } });
      expect([changed.status, changed.body.error.field]).toEqual([400, 'schedule.firstDelayMs']);
      await json(s2.base, 'PUT', '/api/clock', { paused: true });
      const run = (await json<{ id: string }>(s2.base, 'POST', '/api/runs', {})).body;
      const [d] = await deliveriesOf(s2.base, `?runId=${run.id}`);
      expect((d as Delivery).plannedAt).toHaveLength(200);
    } finally {
      await s2.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
