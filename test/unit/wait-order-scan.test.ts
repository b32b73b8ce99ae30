// The wait API's scan in id order (server/capture/filter.ts): a capture still waiting for its
// answer holds the wait (pendingFirst), unless it is a proxied one past proxyHoldMs, whose answer
// was never recorded (its instance stopped while it proxied): that one holds nothing.
import { describe, expect, it } from 'vitest';
import { search, unsettledBetween } from '../../server/capture/filter.ts';
import { MemoryStore } from '../../server/store/memory.ts';
import { fakeRequest } from '../store/contract.ts';

const NOW = Date.parse('2026-12-05T12:00:00Z');
const proxied = { status: null, delayMs: 0, fault: null, source: 'proxy' as const, index: null, roll: null };

async function binWith(proxiedAt: number) {
  const s = new MemoryStore();
  await s.bins.put({ id: 'b', name: 'b', createdAt: 'x' });
  // id order: r1 proxied, its answer not recorded; r2 answered.
  await s.requests.append(fakeRequest('b', 'r1', { receivedAt: new Date(proxiedAt).toISOString(), answer: proxied }), 10);
  await s.requests.append(fakeRequest('b', 'r2', { receivedAt: new Date(NOW - 1000).toISOString() }), 10);
  return s;
}
const scanOf = (s: MemoryStore, extra = {}) =>
  search(s, 'b', {}, { limit: 1, oldestFirst: true, maxDecodedBytes: 1 << 20, settledAt: NOW, pendingFirst: true, proxyHoldMs: 80_000, ...extra });

describe('the wait scan in id order', () => {
  it('a proxied capture whose target may still answer holds the newer match', async () => {
    const s = await binWith(NOW - 5_000);
    const found = await scanOf(s);
    expect([found.rows.map((r) => r.id), found.pending]).toEqual([[], 'r1']);
    expect(await unsettledBetween(s, 'b', {}, { before: 'r2', settledAt: NOW, proxyHoldMs: 80_000 })).toBe(true);
  });

  it('one past proxyHoldMs (its answer never recorded) holds nothing: the newer match is the answer', async () => {
    const s = await binWith(NOW - 10 * 60_000);
    const found = await scanOf(s);
    expect([found.rows.map((r) => r.id), found.pending]).toEqual([['r2'], undefined]);
    expect(await unsettledBetween(s, 'b', {}, { before: 'r2', settledAt: NOW, proxyHoldMs: 80_000 })).toBe(false);
  });

  it('a status filter: a proxied one may match any status until answered; a settled one not matching is passed over for good', async () => {
    const s = await binWith(NOW - 5_000);
    await s.requests.append(fakeRequest('b', 'r3', { receivedAt: new Date(NOW).toISOString(), answer: { ...proxied, status: 500, source: 'default' } }), 10);
    const found = await search(s, 'b', { status: '200' }, { limit: 1, after: 'r1', oldestFirst: true, maxDecodedBytes: 1 << 20, settledAt: NOW, pendingFirst: true });
    expect(found.rows.map((r) => r.id)).toEqual(['r2']);
    const late = await search(s, 'b', { status: '500' }, { limit: 1, after: 'r2', oldestFirst: true, maxDecodedBytes: 1 << 20, settledAt: NOW, pendingFirst: true });
    expect(late.rows.map((r) => r.id)).toEqual(['r3']);
    expect(await search(s, 'b', { status: '404' }, { limit: 1, oldestFirst: true, maxDecodedBytes: 1 << 20, settledAt: NOW, pendingFirst: true })).toMatchObject({ pending: 'r1' });
  });
});
