// Work that nothing awaits (a live capture answering a waiting client, the virtual clock
// saving its state) must not reject unhandled when the store fails: Node 20 ends the process
// on an unhandled rejection. Here the store fails on purpose; the server answers and runs on.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.cleanup();
});

const away = async (): Promise<never> => {
  throw new Error('store away (test)');
};

describe('a store that fails under work nothing awaits', () => {
  it('a waiting client whose capture cannot be read gets 503 storage_unavailable, not silence', async () => {
    const bin = await createBin(srv.base);
    const waiting = request(srv.base).get(`/api/bins/${bin.id}/requests/wait?path=/x&timeout=60s`).then((r) => r);
    // Let the wait scan the (empty) bin first: the capture then reaches it live.
    await new Promise((r) => setTimeout(r, 300));
    const requests = srv.store.requests;
    const get = requests.get.bind(requests);
    requests.get = away;
    try {
      await send(`${bin.url}/x`, { body: 'hi' });
      const r = await waiting;
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('storage_unavailable');
      expect(r.headers['retry-after']).toBe('5');
    } finally {
      requests.get = get;
    }
  });

  it('the virtual clock changes while its state cannot be saved: the server runs on', async () => {
    const setClock = srv.store.setClock.bind(srv.store);
    srv.store.setClock = away;
    try {
      // The change itself may answer an error; what matters is that nothing rejects unhandled.
      await request(srv.base).put('/api/clock').send({ paused: true });
      await request(srv.base).put('/api/clock').send({ paused: false });
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      srv.store.setClock = setClock;
    }
    expect((await request(srv.base).get('/api/health')).status).toBe(200);
    expect((await request(srv.base).get('/api/clock')).status).toBe(200);
  });
});
