// The contract every Store driver must meet. Run by memory.test.ts, lowdb.test.ts and
// redis.test.ts (against a real redis-server).
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../shared/api.ts';
import { sortableIdFactory } from '../../server/ids.ts';
import type { CapturedRequest, Store, StoredReplay } from '../../server/store/types.ts';
import { MAX_REPLAY_JOBS } from '../../shared/schema/forward.ts';

export function fakeRequest(binId: string, id: string, extra: Partial<CapturedRequest> = {}): CapturedRequest {
  const body = extra.body ?? Buffer.from('hi');
  return {
    id,
    binId,
    method: 'POST',
    path: '/',
    queryString: '',
    headers: ['Content-Type', 'text/plain'],
    ip: '127.0.0.1',
    receivedAt: new Date(0).toISOString(),
    size: body.length,
    truncated: false,
    storedBytes: body.length,
    contentType: 'text/plain',
    answer: { status: 200, delayMs: 0, fault: null, source: 'default', index: null, roll: null },
    ...extra,
    body,
  };
}

/** The bytes of fakeRequest's head that the byte budget counts with its body: POST, /, Content-Type, text/plain. */
export const FAKE_HEAD = 4 + 1 + 12 + 10;

export function fakeDelivery(id: string, state: Delivery['state'], webhookId = 'wh_1'): Delivery {
  return {
    id,
    webhookId,
    webhookName: 'w',
    url: 'http://127.0.0.1:1/x',
    runId: null,
    event: 'test',
    payload: { created: '2024-01-04T22:52:01Z', destination_id: 1, destination_type: 'b', event: 'test', flow_id: 1, run_attempt_id: 1, source_id: 1, source_type: 's' },
    webhookMessageId: 'msg_1',
    state,
    createdAt: new Date(0).toISOString(),
    nextAttemptAt: state === 'pending' ? new Date(0).toISOString() : null,
    plannedAt: [],
    schedule: { firstDelayMs: 1, factor: 2, jitter: 0, deadlineMs: 10 },
    seed: 1,
    attempts: [],
    endReason: null,
    binId: null,
  };
}

export function storeContract(name: string, make: (opts: { maxFinishedDeliveries?: number; maxStoreBytes?: number }) => Promise<Store>) {
  describe(`Store contract: ${name}`, () => {
    // A fake clock makes ids deterministic in order.
    let t = 1_700_000_000_000;
    const nextId = sortableIdFactory(() => t++);

    it('keeps bins; deleting one drops its requests', async () => {
      const s = await make({});
      await s.bins.put({ id: 'b1', name: 'one', createdAt: 'x' });
      await s.bins.put({ id: 'b2', name: 'two', createdAt: 'x', labelFrom: ['json:data.object.type', 'header:x-event'] });
      expect((await s.bins.list()).map((b) => b.id)).toEqual(['b1', 'b2']);
      // The whole record, optional fields too (a bin's row label sources).
      expect(await s.bins.get('b2')).toEqual({ id: 'b2', name: 'two', createdAt: 'x', labelFrom: ['json:data.object.type', 'header:x-event'] });
      await s.bins.put({ id: 'b2', name: 'two', createdAt: 'x' });
      expect(await s.bins.get('b2')).not.toHaveProperty('labelFrom');
      await s.requests.append(fakeRequest('b1', nextId()), 10);
      expect(await s.bins.delete('b1')).toBe(true);
      expect(await s.bins.delete('b1')).toBe(false);
      expect(await s.bins.get('b1')).toBeUndefined();
      expect((await s.requests.stats('b1')).count).toBe(0);
      await s.close();
    });

    it('appends requests, evicts the oldest beyond the cap, and pages newest first', async () => {
      const s = await make({});
      await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
      const ids: string[] = [];
      const evicted: string[] = [];
      for (let i = 0; i < 8; i++) {
        const id = nextId();
        ids.push(id);
        for (const ev of (await s.requests.append(fakeRequest('b', id, { path: `/${i}` }), 5)) ?? []) {
          expect(ev.binId).toBe('b');
          evicted.push(...ev.ids);
        }
      }
      expect(evicted).toEqual(ids.slice(0, 3));
      expect((await s.requests.page('b', { limit: 100 })).map((r) => r.id)).toEqual(ids.slice(3).reverse());
      expect((await s.requests.page('b', { limit: 2 })).map((r) => r.id)).toEqual([ids[7], ids[6]]);
      expect((await s.requests.page('b', { limit: 2, before: ids[6] })).map((r) => r.id)).toEqual([ids[5], ids[4]]);
      expect((await s.requests.page('b', { limit: 100, after: ids[5] })).map((r) => r.id)).toEqual([ids[7], ids[6]]);
      // A cursor that was evicted still works: ids sort by time.
      expect((await s.requests.page('b', { limit: 100, after: ids[0] })).length).toBe(5);
      expect((await s.requests.get('b', ids[0]))).toBeUndefined();
      expect((await s.requests.get('b', ids[7]))?.path).toBe('/7');
      expect(await s.requests.stats('b')).toEqual({ count: 5, lastAt: new Date(0).toISOString(), oldestId: ids[3] });
      // List rows from memory: the same order, paging forward from a cursor too.
      expect((await s.requests.items('b', { limit: 2 })).map((r) => r.id)).toEqual([ids[7], ids[6]]);
      expect((await s.requests.items('b', { limit: 2, after: ids[3], oldestFirst: true })).map((r) => r.id)).toEqual([ids[4], ids[5]]);
      expect((await s.requests.items('b', { limit: 1 }))[0]).toMatchObject({ id: ids[7], path: '/7', status: 200, size: 2 });
      expect(await s.requests.delete('b', ids[5])).toBe(true);
      expect(await s.requests.delete('b', ids[5])).toBe(false);
      expect(await s.requests.clear('b')).toBe(4);
      expect(await s.requests.page('b', { limit: 10 })).toEqual([]);
      await s.close();
    });

    it('refuses requests for a bin that does not exist', async () => {
      const s = await make({});
      expect(await s.requests.append(fakeRequest('ghost', nextId()), 10)).toBeNull();
      expect(await s.requests.stats('ghost')).toEqual({ count: 0, lastAt: null, oldestId: null });
      await s.close();
    });

    it('keeps bodies byte-exact, apart from the metadata', async () => {
      const s = await make({});
      await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
      const bytes = Buffer.from([0, 255, 1, 254, 10, 13, 0x80]);
      const big = Buffer.alloc(300_000, 7);
      const a = nextId();
      const b = nextId();
      await s.requests.append(fakeRequest('b', a, { body: bytes, headers: ['X-One', '1', 'x-one', '2'] }), 10);
      await s.requests.append(fakeRequest('b', b, { body: big }), 10);
      await s.flush();
      expect((await s.requests.body('b', a))?.equals(bytes)).toBe(true);
      expect((await s.requests.body('b', b))?.equals(big)).toBe(true);
      const meta = await s.requests.get('b', a);
      expect(meta).toMatchObject({ id: a, storedBytes: 7, headers: ['X-One', '1', 'x-one', '2'] });
      expect(meta).not.toHaveProperty('body');
      expect((await s.requests.page('b', { limit: 10 })).map((r) => r.storedBytes)).toEqual([300_000, 7]);
      expect(await s.requests.body('b', 'nope')).toBeUndefined();
      await s.close();
    });

    it('keeps the store under its byte budget by evicting the oldest capture across bins', async () => {
      const s = await make({ maxStoreBytes: 1000 });
      await s.bins.put({ id: 'x', name: 'x', createdAt: 'x' });
      await s.bins.put({ id: 'y', name: 'y', createdAt: 'x' });
      // Each counts 300 bytes: its body and fakeRequest's 27 bytes of head (POST / Content-Type text/plain).
      const body = Buffer.alloc(300 - FAKE_HEAD, 1);
      const ids: string[] = [];
      for (const bin of ['x', 'y', 'x']) {
        ids.push(nextId());
        expect(await s.requests.append(fakeRequest(bin, ids[ids.length - 1], { body }), 100)).toEqual([]);
      }
      // A fourth body does not fit: the oldest of all (in x) goes, reported under its bin.
      ids.push(nextId());
      expect(await s.requests.append(fakeRequest('y', ids[3], { body }), 100)).toEqual([{ binId: 'x', ids: [ids[0]] }]);
      // A big one pushes out as many as it takes, oldest first (its own bin is listed first).
      ids.push(nextId());
      expect(await s.requests.append(fakeRequest('x', ids[4], { body: Buffer.alloc(700 - FAKE_HEAD, 2) }), 100)).toEqual([
        { binId: 'x', ids: [ids[2]] },
        { binId: 'y', ids: [ids[1]] },
      ]);
      expect((await s.requests.page('x', { limit: 10 })).map((r) => r.id)).toEqual([ids[4]]);
      expect((await s.requests.page('y', { limit: 10 })).map((r) => r.id)).toEqual([ids[3]]);
      await s.close();
    });

    it("counts a capture's head (method, path, query, header and trailer names and values) against the byte budget", async () => {
      const s = await make({ maxStoreBytes: 1000 });
      await s.bins.put({ id: 'h', name: 'h', createdAt: 'x' });
      // No body; 400 bytes of head: POST /p q=1 X-Pad <382 bytes: é is two in UTF-8> X-T t.
      const heavy = (id: string) =>
        fakeRequest('h', id, { body: Buffer.alloc(0), path: '/p', queryString: 'q=1', headers: ['X-Pad', `\u00e9${'v'.repeat(380)}`], trailers: ['X-T', 't'] });
      const ids = Array.from({ length: 5 }, () => nextId());
      expect(await s.requests.append(heavy(ids[0]), 100)).toEqual([]);
      expect(await s.requests.append(heavy(ids[1]), 100)).toEqual([]);
      // 1200 bytes of heads: the oldest goes, though no body was stored at all.
      expect(await s.requests.append(heavy(ids[2]), 100)).toEqual([{ binId: 'h', ids: [ids[0]] }]);
      // A deletion gives its head's bytes back: 400 left, room for one more.
      expect(await s.requests.delete('h', ids[1])).toBe(true);
      expect(await s.requests.append(heavy(ids[3]), 100)).toEqual([]);
      expect(await s.requests.append(heavy(ids[4]), 100)).toEqual([{ binId: 'h', ids: [ids[2]] }]);
      expect((await s.requests.items('h', { limit: 10 })).map((r) => r.id)).toEqual([ids[4], ids[3]]);
      // Cleared, the bin gives all of it back: two captures of 400 fit again.
      expect(await s.requests.clear('h')).toBe(2);
      const more = [nextId(), nextId()];
      for (const id of more) expect(await s.requests.append(heavy(id), 100)).toEqual([]);
      await s.close();
    });

    it('annotates stored requests (forwards, replays), before and after they are written', async () => {
      const s = await make({});
      await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
      const a = nextId();
      await s.requests.append(fakeRequest('b', a), 10);
      const rec = (n: number) => ({ kind: 'forward' as const, at: 'x', target: 't', url: 'u', method: 'POST', status: 200 + n, headers: [], body: '', bodyEncoding: 'utf8' as const, bodyTruncated: false, durationMs: 1, error: null, errorDetail: null, edited: false });
      expect(await s.requests.annotate('b', a, (r) => ({ forwards: [...(r.forwards ?? []), rec(0)] }))).toMatchObject({ id: a });
      await s.flush();
      expect(await s.requests.annotate('b', a, (r) => ({ forwards: [...(r.forwards ?? []), rec(1)] }))).toMatchObject({ id: a });
      expect((await s.requests.get('b', a))?.forwards?.map((f) => f.status)).toEqual([200, 201]);
      expect((await s.requests.page('b', { limit: 1 }))[0].forwards).toHaveLength(2);
      // The list row: a forward's result does not show in it; an answer or a verdict does.
      const row = (await s.requests.items('b', { limit: 1 }))[0];
      const answer = { ...row.answer, status: 502 };
      expect(await s.requests.annotate('b', a, () => ({ answer, verification: { status: 'missing' } }))).toMatchObject({ id: a, status: 502, verification: { status: 'missing' } });
      expect(await s.requests.annotate('b', a, (r) => ({ forwards: [...(r.forwards ?? []), rec(2)] }))).toMatchObject({ status: 502, verification: { status: 'missing' } });
      expect((await s.requests.items('b', { limit: 1 }))[0]).toMatchObject({ status: 502, verification: { status: 'missing' } });
      expect(await s.requests.annotate('b', 'nope', () => ({}))).toBeNull();
      await s.forwards.put({ id: 'b', targets: [{ url: 'http://127.0.0.1:3000/' }], answerWith: 'bin' });
      expect((await s.forwards.get('b'))?.targets).toHaveLength(1);
      await s.close();
    });

    it('numbers captures per bin in arrival order; numbers stay used through evictions, deletes and clears', async () => {
      const s = await make({});
      await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
      await s.bins.put({ id: 'c', name: 'c', createdAt: 'x' });
      const ids = Array.from({ length: 6 }, () => nextId());
      for (const id of ids.slice(0, 4)) await s.requests.append(fakeRequest('b', id), 3); // the 4th evicts the 1st
      await s.requests.append(fakeRequest('c', ids[4]), 3);
      expect((await s.requests.items('b', { limit: 10, oldestFirst: true })).map((i) => i.seq)).toEqual([2, 3, 4]);
      expect((await s.requests.get('c', ids[4]))?.seq).toBe(1);
      await s.requests.delete('b', ids[3]);
      await s.requests.clear('b');
      expect(await s.requests.lastSeq('b')).toBe(4);
      await s.requests.append(fakeRequest('b', ids[5]), 3);
      expect((await s.requests.items('b', { limit: 10 })).map((i) => i.seq)).toEqual([5]);
      // A bin deleted and made again starts over.
      await s.bins.delete('c');
      await s.bins.put({ id: 'c', name: 'c', createdAt: 'y' });
      expect(await s.requests.lastSeq('c')).toBe(0);
      await s.close();
    });

    it('keeps an out-of-order append sorted', async () => {
      const s = await make({});
      await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
      const a = nextId();
      const b = nextId();
      await s.requests.append(fakeRequest('b', b), 10);
      await s.requests.append(fakeRequest('b', a), 10);
      expect((await s.requests.page('b', { limit: 10 })).map((r) => r.id)).toEqual([b, a]);
      await s.close();
    });

    it('queries deliveries newest first by webhook and state, and bounds finished ones but never pending ones', async () => {
      const s = await make({ maxFinishedDeliveries: 3 });
      await s.deliveries.put(fakeDelivery('d1', 'pending'));
      for (let i = 2; i <= 6; i++) await s.deliveries.put(fakeDelivery(`d${i}`, 'failed', i % 2 ? 'wh_odd' : 'wh_even'));
      const all = await s.deliveries.query({});
      expect(all.map((d) => d.id)).toEqual(['d6', 'd5', 'd4', 'd1']);
      expect((await s.deliveries.query({ state: 'pending' })).map((d) => d.id)).toEqual(['d1']);
      expect((await s.deliveries.query({ webhookId: 'wh_even' })).map((d) => d.id)).toEqual(['d6', 'd4']);
      expect((await s.deliveries.query({ limit: 1 })).map((d) => d.id)).toEqual(['d6']);
      // A pending delivery that finishes counts toward the bound from then on.
      await s.deliveries.put({ ...fakeDelivery('d1', 'delivered') });
      expect((await s.deliveries.query({})).map((d) => d.id)).toEqual(['d6', 'd5', 'd4']);
      await s.close();
    });

    it('keeps webhooks, response settings, runs and the clock', async () => {
      const s = await make({});
      await s.setClock({ virtualMs: 5, realMs: 6, scale: 60, paused: true });
      expect(await s.getClock()).toEqual({ virtualMs: 5, realMs: 6, scale: 60, paused: true });
      await s.responses.put({ id: 'b', config: { default: { status: 201, headers: {}, body: '', contentType: 'text/plain', delayMs: 0 }, rules: [], plan: [], afterPlan: 'default', seed: 1, cors: true }, state: { step: 0, usedInStep: 0, consumed: 0, exhausted: false, rng: 1 } });
      expect((await s.responses.get('b'))?.config.default.status).toBe(201);
      await s.close();
    });

    it('keeps bulk replays: every running one, and the newest MAX_REPLAY_JOBS ended ones', async () => {
      const s = await make({});
      const job = (id: string, state: StoredReplay['state'], done = 0): StoredReplay => ({
        id,
        binId: 'b',
        total: 3,
        done,
        failed: 0,
        state,
        error: state === 'failed' ? 'why' : null,
        startedAt: new Date(0).toISOString(),
        finishedAt: state === 'running' ? null : new Date(1).toISOString(),
        instance: 'http://127.0.0.1:1',
        updatedAt: new Date(2).toISOString(),
      });
      await s.replays.put(job('run0', 'running'));
      for (let i = 0; i < MAX_REPLAY_JOBS; i++) await s.replays.put(job(`end${i}`, i % 2 ? 'failed' : 'finished', 3));
      await s.replays.put(job('run1', 'running'));
      // A new version replaces the old (progress), without moving it.
      await s.replays.put(job('run1', 'running', 2));
      expect(await s.replays.get('run1')).toEqual(job('run1', 'running', 2));
      expect((await s.replays.list()).length).toBe(MAX_REPLAY_JOBS + 2);
      // One more ended: the oldest ended goes, the running ones stay (however old).
      await s.replays.put(job('run1', 'finished', 3));
      const ids = (await s.replays.list()).map((j) => j.id);
      expect(ids).toHaveLength(MAX_REPLAY_JOBS + 1);
      expect(ids[0]).toBe('run0');
      expect(ids).not.toContain('end0');
      expect(ids.slice(1, 3)).toEqual(['end1', 'end2']);
      expect(ids[ids.length - 1]).toBe('run1');
      expect(await s.replays.get('end0')).toBeUndefined();
      // The job that began first ends last: it is the newest ended, so the first to have ended goes.
      await s.replays.put(job('run0', 'finished', 3));
      expect(await s.replays.get('run0')).toEqual(job('run0', 'finished', 3));
      expect(await s.replays.get('end1')).toBeUndefined();
      expect((await s.replays.list()).length).toBe(MAX_REPLAY_JOBS);
      await s.close();
    });
  });
}
