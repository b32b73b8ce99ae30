// Settings writes wait their turn per resource (server/api/settings-writes.ts). While one is
// held (a slow store write, as a Redis round trip under load), the others: a write whose
// If-Match is already stale answers 412 at once; past MAX_WAITING_WRITES one answers 503 busy
// with Retry-After; a bin deleted while writes wait gets none of their settings (a bin made
// again with its id later would have inherited the old owner's forward targets or secrets).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsLockBusyError } from '../../server/cluster/settings-lock.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

// A line shorter than the default (16), to fill it.
const MAX_WAITING_WRITES = 6;

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ config: { maxWaitingWrites: MAX_WAITING_WRITES } });
});
afterAll(() => srv.cleanup());

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(srv.base + path, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: (text ? JSON.parse(text) : null) as Record<string, unknown> & { targets?: unknown[]; schemes?: unknown[] } };
}

/** The next put to `coll` waits until the returned function is called. */
function holdNextPut(coll: { put: (v: never) => Promise<void> }): { release: () => void; held: Promise<void> } {
  const put = coll.put.bind(coll);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let reached!: () => void;
  const held = new Promise<void>((r) => (reached = r));
  coll.put = async (v: never) => {
    coll.put = put;
    reached();
    await gate;
    return put(v);
  };
  return { release, held };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check(), 'waited 2 s for it').toBe(true);
};

describe('settings writes in turn', () => {
  it('a bin deleted while writes to its forward targets and signature settings wait keeps none of them; made again, it starts clean', async () => {
    const ID = 'turns-forward-0123456789abcdef';
    expect((await call('POST', '/api/bins', { id: ID })).status).toBe(201);
    const fwd = holdNextPut(srv.store.forwards as never);
    const ver = holdNextPut(srv.store.verifications as never);
    const a = call('PUT', `/api/bins/${ID}/forward`, { targets: [{ url: 'http://127.0.0.1:9/a' }] });
    const va = call('PUT', `/api/bins/${ID}/verify`, { schemes: [{ type: 'github', secrets: ['gh-first-secret-0123'] }] });
    await Promise.all([fwd.held, ver.held]);
    // Queued behind the held ones.
    const b = call('PUT', `/api/bins/${ID}/forward`, { targets: [{ url: 'http://127.0.0.1:9/old-owner' }] });
    const vb = call('PUT', `/api/bins/${ID}/verify`, { schemes: [{ type: 'github', secrets: ['gh-old-owner-secret-4567'] }] });
    await until(() => srv.app.settingsWrites.pending(`forward:${ID}`) === 2 && srv.app.settingsWrites.pending(`verify:${ID}`) === 2);
    const del = call('DELETE', `/api/bins/${ID}`);
    await new Promise((r) => setTimeout(r, 50));
    fwd.release();
    ver.release();
    expect((await del).status).toBe(204);
    expect([(await a).status, (await va).status]).toEqual([200, 200]);
    // Before: 200 each, their settings stored for a bin that no longer existed.
    expect([(await b).status, (await vb).status]).toEqual([404, 404]);
    expect(await srv.store.forwards.get(ID)).toBeUndefined();
    expect(await srv.store.verifications.get(ID)).toBeUndefined();
    expect((await call('POST', '/api/bins', { id: ID })).status).toBe(201);
    expect((await call('GET', `/api/bins/${ID}/forward`)).body.targets).toEqual([]);
    expect((await call('GET', `/api/bins/${ID}/verify`)).body.schemes).toEqual([]);
  });

  it('while a write is held: a stale If-Match is 412 at once, and past MAX_WAITING_WRITES (6 here) a write is 503 busy with Retry-After; all the others apply in order', async () => {
    const bin = await createBin(srv.base);
    const stale = (await call('GET', `/api/bins/${bin.id}/forward`)).headers.get('etag')!;
    expect((await call('PUT', `/api/bins/${bin.id}/forward`, { targets: [{ url: 'http://127.0.0.1:9/first' }] })).status).toBe(200);
    const fwd = holdNextPut(srv.store.forwards as never);
    const put = (i: number, headers: Record<string, string> = {}) => call('PUT', `/api/bins/${bin.id}/forward`, { targets: [{ url: `http://127.0.0.1:9/w${i}` }] }, headers);
    const first = put(0);
    await fwd.held;
    const waiting = Array.from({ length: MAX_WAITING_WRITES - 1 }, (_, i) => put(i + 1));
    await until(() => srv.app.settingsWrites.pending(`forward:${bin.id}`) === MAX_WAITING_WRITES);
    expect(srv.app.settingsWrites.pending(`forward:${bin.id}`)).toBe(MAX_WAITING_WRITES);
    const refused = await put(99);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: { code: 'busy' } });
    expect(refused.headers.get('retry-after')).toBe('1');
    // Answered while the line is still held (it does not wait its turn to be refused).
    const staleWrite = await put(98, { 'if-match': stale });
    expect(staleWrite.status).toBe(412);
    fwd.release();
    expect((await Promise.all([first, ...waiting])).map((r) => r.status)).toEqual(Array(MAX_WAITING_WRITES).fill(200));
    // In arrival order: the last one's is what stays.
    expect((await call('GET', `/api/bins/${bin.id}/forward`)).body.targets).toEqual([{ url: `http://127.0.0.1:9/w${MAX_WAITING_WRITES - 1}` }]);
  });

  it("a removal whose settings' turn never came (another instance held them past the patient wait): the bin is deleted all the same (204: a 503 said to retry a deletion that had happened, and the retry found 404); a bin made again with its id does not inherit them", async () => {
    const bin = await createBin(srv.base);
    expect((await call('PUT', `/api/bins/${bin.id}/response`, { plan: [{ status: 500, times: 3 }] })).status).toBe(200);
    // As SettingsLock throws after its patient wait (30 s on Redis): stood in for, once.
    const run = srv.app.settingsWrites.run.bind(srv.app.settingsWrites);
    srv.app.settingsWrites.run = (() => Promise.reject(new SettingsLockBusyError('another instance is changing this right now'))) as typeof run;
    try {
      expect((await call('DELETE', `/api/bins/${bin.id}`)).status).toBe(204);
    } finally {
      srv.app.settingsWrites.run = run;
    }
    expect((await call('GET', `/api/bins/${bin.id}`)).status).toBe(404);
    // Its answer plan stayed behind; a bin made with the same id starts without it.
    expect((await call('POST', '/api/bins', { id: bin.id })).status).toBe(201);
    const answer = await fetch(`${srv.base}/h/${bin.id}`, { method: 'POST', body: 'x' });
    expect(answer.status).toBe(200);
  });

  it("a webhook's rename and the dispatcher's note of a failed attempt, at the same time, both stay", async () => {
    const wh = await call('POST', '/api/webhooks', { name: 'before', url: 'http://127.0.0.1:9/refused' });
    expect(wh.status).toBe(201);
    const id = wh.body.id as string;
    const held = holdNextPut(srv.store.webhooks as never);
    const rename = call('PATCH', `/api/webhooks/${id}`, { name: 'renamed' });
    await held.held;
    // A run: its sync_start is attempted at once and fails (nothing listens on port 9); the
    // dispatcher then notes the failure streak on the webhook.
    expect((await call('POST', '/api/runs', {})).status).toBe(201);
    const attempted = async () => (await srv.store.deliveries.query({ webhookId: id })).some((d) => d.attempts.length > 0);
    for (let i = 0; i < 400 && !(await attempted()); i++) await new Promise((r) => setTimeout(r, 10));
    expect(await attempted()).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    held.release();
    expect((await rename).status).toBe(200);
    for (let i = 0; i < 400 && !(await call('GET', `/api/webhooks/${id}`)).body.failing; i++) await new Promise((r) => setTimeout(r, 10));
    const now = await call('GET', `/api/webhooks/${id}`);
    // Before: the rename wrote back the copy it read before the dispatcher's note of the first
    // failed attempt: that note was lost.
    expect(now.body.name).toBe('renamed');
    // The streak runs from the first failed attempt (a later one noted it again, but later).
    const [first] = (await srv.store.deliveries.query({ webhookId: id }))[0].attempts;
    expect(now.body.failing).toMatchObject({ since: first.sentAt });
  });

  it('a webhook turned off then on again while an attempt is under way keeps what it owes', async () => {
    // A receiver that answers 500 after 800 ms: an attempt is in flight when it is turned off.
    const slow = http.createServer((_req, res) => void setTimeout(() => res.writeHead(500).end('no'), 800));
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    try {
      const wh = await call('POST', '/api/webhooks', { name: 'flip', url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/hook` });
      const id = wh.body.id as string;
      expect((await call('POST', '/api/runs', {})).status).toBe(201);
      const inFlight = async () => (await srv.store.deliveries.query({ webhookId: id })).length > 0;
      for (let i = 0; i < 400 && !(await inFlight()); i++) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 200));
      const off = call('PATCH', `/api/webhooks/${id}`, { enabled: false });
      for (let i = 0; i < 400 && (await srv.store.webhooks.get(id))?.enabled; i++) await new Promise((r) => setTimeout(r, 5));
      expect((await call('PATCH', `/api/webhooks/${id}`, { enabled: true })).status).toBe(200);
      expect((await off).status).toBe(200);
      expect((await call('GET', `/api/webhooks/${id}`)).body.enabled).toBe(true);
      // Before: the first PATCH's cancelling, waiting for the attempt, went on after the second.
      const states = (await srv.store.deliveries.query({ webhookId: id })).map((d) => `${d.state}/${d.endReason ?? ''}`);
      expect(states).not.toContain('cancelled/webhook_disabled');
      expect(states.some((x) => x.startsWith('pending'))).toBe(true);
      await call('PATCH', `/api/webhooks/${id}`, { enabled: false });
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  }, 30_000);
});
