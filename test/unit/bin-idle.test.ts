// Idle-bin expiry (BIN_IDLE_DAYS): the rule, how often it looks, and the sweeper's care not to
// delete a bin that became active between the list and the deletion.
import { describe, expect, it } from 'vitest';
import { type BinActivity, idleBins, sweepEveryMs } from '../../server/bins/idle.ts';
import { startIdleSweeper } from '../../server/bins/sweeper.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(ms).toISOString();

describe('idleBins', () => {
  const bins: BinActivity[] = [
    { id: 'fresh', createdAt: at(T0 + 9 * DAY), lastRequestAt: null },
    { id: 'never-sent', createdAt: at(T0), lastRequestAt: null },
    { id: 'sent-lately', createdAt: at(T0), lastRequestAt: at(T0 + 8 * DAY) },
    { id: 'sent-long-ago', createdAt: at(T0), lastRequestAt: at(T0 + 2 * DAY) },
    { id: 'emptied-lately', createdAt: at(T0), lastRequestAt: null, activeAt: at(T0 + 6 * DAY) },
    { id: 'bad-date', createdAt: 'yesterday', lastRequestAt: null },
  ];

  it('picks the bins with no creation, capture or clearing within the idle time', () => {
    expect(idleBins(bins, T0 + 10 * DAY, 7 * DAY)).toEqual(['never-sent', 'sent-long-ago']);
  });

  it('idle for exactly the idle time is not yet idle', () => {
    expect(idleBins([{ id: 'a', createdAt: at(T0), lastRequestAt: null }], T0 + 7 * DAY, 7 * DAY)).toEqual([]);
    expect(idleBins([{ id: 'a', createdAt: at(T0), lastRequestAt: null }], T0 + 7 * DAY + 1, 7 * DAY)).toEqual(['a']);
  });
});

describe('sweepEveryMs', () => {
  it('is a tenth of the idle time, from 1 s to 1 h', () => {
    expect(sweepEveryMs(7 * DAY)).toBe(3_600_000);
    expect(sweepEveryMs(600_000)).toBe(60_000);
    expect(sweepEveryMs(2000)).toBe(1000);
  });
});

describe('startIdleSweeper', () => {
  function world() {
    const now = { ms: T0 + 10 * DAY };
    const bins = new Map<string, BinActivity>([
      ['a', { id: 'a', createdAt: at(T0), lastRequestAt: null }],
      ['b', { id: 'b', createdAt: at(T0), lastRequestAt: null }],
      ['c', { id: 'c', createdAt: at(T0 + 9 * DAY), lastRequestAt: null }],
    ]);
    const removed: string[] = [];
    const swept: string[][] = [];
    let active = true;
    let onList = () => {};
    const sweeper = startIdleSweeper({
      idleMs: 7 * DAY,
      now: () => now.ms,
      list: async () => {
        const out = [...bins.values()];
        onList();
        return out;
      },
      get: async (id) => bins.get(id) ?? null,
      remove: async (id) => {
        removed.push(id);
        return bins.delete(id);
      },
      active: () => active,
      onSwept: (ids) => swept.push(ids),
      onError: (err) => {
        throw err;
      },
    });
    return { now, bins, removed, swept, sweeper, setActive: (v: boolean) => (active = v), setOnList: (f: () => void) => (onList = f) };
  }

  it('deletes the idle bins once, and tells which', async () => {
    const w = world();
    await w.sweeper.stop(); // no timer passes: this test drives them
    expect(await w.sweeper.sweep()).toEqual(['a', 'b']);
    expect([...w.bins.keys()]).toEqual(['c']);
    expect(await w.sweeper.sweep()).toEqual([]);
    expect(w.removed).toEqual(['a', 'b']);
  });

  it('spares a bin sent to after the list was read', async () => {
    const w = world();
    await w.sweeper.stop();
    w.setOnList(() => w.bins.set('b', { ...w.bins.get('b')!, lastRequestAt: at(w.now.ms) }));
    expect(await w.sweeper.sweep()).toEqual(['a']);
    expect(w.bins.has('b')).toBe(true);
  });

  it('does nothing on an instance that does not sweep (another runs the dispatcher)', async () => {
    const w = world();
    w.setActive(false);
    await w.sweeper.stop();
    expect(await w.sweeper.sweep()).toEqual([]);
    expect(w.removed).toEqual([]);
    // It takes over (the dispatcher's lease passed to it): the next pass sweeps.
    w.setActive(true);
    expect(await w.sweeper.sweep()).toEqual(['a', 'b']);
  });

  it('makes a first pass by itself at start', async () => {
    const w = world();
    await expect.poll(() => w.swept).toEqual([['a', 'b']]);
    await w.sweeper.stop();
  });
});
