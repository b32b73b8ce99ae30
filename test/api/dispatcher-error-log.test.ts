// A store that is away (Redis down) fails the writes of every pending delivery, each retried:
// the log said "dispatcher error" once per delivery per retry, hundreds of lines in seconds.
// They are counted now: the first told at once, the rest summed (at most one line per 10 s).
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../server/log.ts';
import { json, startServer, type TestServer } from '../helpers/server.ts';

const lines: { msg: string; fields?: Record<string, unknown> }[] = [];
const log: Logger = {
  info: () => {},
  warn: () => {},
  error: (msg, fields) => void lines.push({ msg, fields }),
};

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ log });
});
afterAll(() => srv.cleanup());

describe('dispatcher errors in the log', () => {
  it('deliveries whose writes fail while the store is away make one line with a count, not one each', async () => {
    // Nothing listens on port 9: each first attempt fails at once, and its result must be stored.
    for (let i = 0; i < 4; i++) await request(srv.base).post('/api/webhooks').send({ url: `http://127.0.0.1:9/refused-${i}?token=secret-${i}`, events: ['flow_started'] }).expect(201);
    await json(srv.base, 'PUT', '/api/clock', { paused: true });
    for (let i = 0; i < 5; i++) await request(srv.base).post('/api/runs').send({}).expect(201);
    const deliveries = srv.store.deliveries;
    const put = deliveries.put.bind(deliveries);
    deliveries.put = async () => {
      throw new Error('store away (test)');
    };
    try {
      // 20 deliveries' attempts, each failing to be stored, each retried.
      await json(srv.base, 'PUT', '/api/clock', { paused: false });
      await expect.poll(() => lines.filter((l) => l.msg === 'dispatcher error').length, { timeout: 10_000 }).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 1500));
      const told = lines.filter((l) => l.msg === 'dispatcher error');
      // Before: a line per failed write (20 deliveries, retried: dozens).
      expect(told).toHaveLength(1);
      expect(told[0].fields).toMatchObject({ count: 1, message: 'store away (test)' });
    } finally {
      deliveries.put = put;
    }
    // The rest are summed into the next line, told when the server stops at the latest.
    await srv.stop();
    const all = lines.filter((l) => l.msg === 'dispatcher error');
    expect(all.length).toBe(2);
    expect(all[1].fields!.count as number).toBeGreaterThan(1);
    // No receiver URL (its query may hold a token) reaches the log.
    expect(JSON.stringify(all)).not.toContain('secret-');
  });
});
