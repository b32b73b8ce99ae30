// The "By key" view's logic: the idempotency API's answer as rows (most recently retried key
// first), which keys a body also arrived under, the counts and sentences it shows, and the
// refresher that fetches at most once a second.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  attemptsText,
  churnByKey,
  churnSummary,
  churnTitle,
  createRefresher,
  findById,
  groupsSummary,
  keyGroupRows,
  noKeyText,
} from '../../client/src/lib/key-groups.ts';
import { groupAttempts } from '../../server/verify/attempts.ts';
import { sortableIdFactory } from '../../server/ids.ts';
import type { RequestItem } from '../../shared/api.ts';
import type { KeyGroupsT } from '../../shared/schema/verify.ts';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 600);
const nextId = (() => {
  let t = T0;
  const make = sortableIdFactory(() => t);
  return (stepMs = 1000) => {
    const id = make();
    t += stepMs;
    return id;
  };
})();

describe('the answer as rows', () => {
  // The scenario of the e2e test, through the server's own grouping: msg_A three times with one
  // body, msg_B, then msg_B's body again under msg_C.
  const a = [nextId(), nextId(), nextId()];
  const b = nextId();
  const c = nextId();
  const grouped = groupAttempts([
    { id: a[0], key: 'msg_A', bodySha256: 'AAA' },
    { id: a[1], key: 'msg_A', bodySha256: 'AAA' },
    { id: a[2], key: 'msg_A', bodySha256: 'AAA' },
    { id: b, key: 'msg_B', bodySha256: 'BBB' },
    { id: c, key: 'msg_C', bodySha256: 'BBB' },
  ]);
  // Arrival times as the server gives them (its receivedAt of the first and the latest id).
  const at = (i: number) => new Date(T0 + i * 1000).toISOString();
  const order = [...a, b, c];
  const answer: KeyGroupsT = {
    groups: grouped.groups.map((g) => ({ ...g, firstAt: at(order.indexOf(g.ids[0])), latestAt: at(order.indexOf(g.ids[g.ids.length - 1])) })),
    keyChurn: grouped.keyChurn,
    unkeyed: 1,
  };

  it('one row per key, the most recently retried first, with attempts, first and latest', () => {
    const rows = keyGroupRows(answer);
    expect(rows.map((r) => r.key)).toEqual(['msg_C', 'msg_B', 'msg_A']);
    const rowA = rows[2];
    expect(rowA).toEqual({ key: 'msg_A', attempts: 3, firstId: a[0], latestId: a[2], firstAt: at(0), latestAt: at(2), churnWith: [] });
    expect(rows[0]).toMatchObject({ key: 'msg_C', attempts: 1, firstId: c, latestId: c, churnWith: ['msg_B'] });
    expect(rows[1].churnWith).toEqual(['msg_C']);
  });

  it('a key retried later moves to the top', () => {
    const later = nextId();
    const rows = keyGroupRows({ ...answer, groups: answer.groups.map((g) => (g.key === 'msg_A' ? { ...g, ids: [...g.ids, later] } : g)) });
    expect(rows.map((r) => `${r.key}:${r.attempts}`)).toEqual(['msg_A:4', 'msg_C:1', 'msg_B:1']);
  });

  it('skips an empty group', () => {
    expect(keyGroupRows({ groups: [{ key: 'x', ids: [], firstAt: '', latestAt: '' }], keyChurn: [], unkeyed: 0 })).toEqual([]);
  });

  it('says the counts', () => {
    expect(noKeyText(1)).toBe('1 capture carries no key');
    expect(noKeyText(1234)).toBe('1,234 captures carry no key');
    expect(groupsSummary(answer)).toBe('3 keys, 5 captures');
    expect(groupsSummary({ groups: [{ key: 'k', ids: ['1'], firstAt: at(0), latestAt: at(0) }], keyChurn: [], unkeyed: 0 })).toBe('1 key, 1 capture');
    expect(attemptsText(1)).toBe('1 attempt');
    expect(attemptsText(3)).toBe('3 attempts');
  });
});

describe('key churn', () => {
  const churn: KeyGroupsT['keyChurn'] = [
    { bodySha256: 'b1', ids: ['1', '2', '3'], keys: ['k1', 'k2', 'k3'] },
    { bodySha256: 'b2', ids: ['4', '5'], keys: ['k3', 'k4'] },
  ];

  it('finds, for each key, the other keys its bodies arrived under', () => {
    const m = churnByKey(churn);
    expect(Object.fromEntries(m)).toEqual({ k1: ['k2', 'k3'], k2: ['k1', 'k3'], k3: ['k1', 'k2', 'k4'], k4: ['k3'] });
    expect(churnByKey([]).size).toBe(0);
  });

  it('says it in one sentence, or not at all', () => {
    expect(churnSummary([])).toBeNull();
    expect(churnSummary(churn.slice(0, 1))).toBe('The same body arrived under more than one key (3 keys in all): the sender gives a retry a new key, so a receiver cannot de-duplicate it.');
    expect(churnSummary(churn)).toBe('2 bodies each arrived under more than one key (4 keys in all): the sender gives a retry a new key, so a receiver cannot de-duplicate it.');
  });

  it('names the other keys on the flag', () => {
    expect(churnTitle(['msg_C'])).toBe("The same body also arrived under key msg_C: the sender's retries do not keep their key, so receivers cannot de-duplicate.");
    expect(churnTitle(['a', 'b', 'c', 'd', 'e', 'f', 'g'])).toContain('under keys a, b, c, d, e and 2 more:');
  });
});

describe('finding a loaded capture', () => {
  it('binary-searches the list, newest first', () => {
    const ids = Array.from({ length: 501 }, () => nextId(7));
    const list = ids.map((id) => ({ id }) as RequestItem).reverse();
    for (const id of [ids[0], ids[250], ids[500], ids[17]]) expect(findById(list, id)?.id).toBe(id);
    expect(findById(list, '0')).toBeUndefined();
    expect(findById(list, 'zzzz')).toBeUndefined();
    expect(findById([], ids[0])).toBeUndefined();
  });
});

describe('the refresher', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const setup = () => {
    const starts: number[] = [];
    const done: (() => void)[] = [];
    const r = createRefresher(
      () => {
        starts.push(Date.now());
        return new Promise<void>((res) => done.push(res));
      },
      1000,
    );
    const finish = async () => {
      done.shift()?.();
      await vi.advanceTimersByTimeAsync(0);
    };
    return { r, starts, finish };
  };

  it('fetches at once, then at most once a second however many events come', async () => {
    const { r, starts, finish } = setup();
    const t0 = Date.now();
    r.poke();
    expect(starts).toEqual([t0]);
    await finish();
    for (let i = 0; i < 50; i++) {
      r.poke();
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(600);
    // One more fetch, a second after the first began.
    expect(starts).toEqual([t0, t0 + 1000]);
    await finish();
    await vi.advanceTimersByTimeAsync(5000);
    expect(starts.length).toBe(2);
  });

  it('never runs two at a time: pokes during a fetch make one more after it', async () => {
    const { r, starts, finish } = setup();
    r.poke();
    await vi.advanceTimersByTimeAsync(3000);
    r.poke();
    r.poke();
    await vi.advanceTimersByTimeAsync(3000);
    expect(starts.length).toBe(1); // still loading
    await finish();
    expect(starts.length).toBe(2); // the gap has passed: at once
    await finish();
    await vi.advanceTimersByTimeAsync(3000);
    expect(starts.length).toBe(2);
  });

  it('a failed fetch does not stop the next; stop() cancels what is waiting', async () => {
    let n = 0;
    const r = createRefresher(async () => {
      n++;
      throw new Error('offline');
    }, 1000);
    r.poke();
    await vi.advanceTimersByTimeAsync(0);
    r.poke();
    await vi.advanceTimersByTimeAsync(1000);
    expect(n).toBe(2);
    r.poke();
    r.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(n).toBe(2);
  });
});
