// SearchTurns: body searches run one slice at a time, at most one slice per turn of the event
// loop however many wait, in turn (round robin), and the turn is free again once all are done.
import { describe, expect, it } from 'vitest';
import { SearchTurns } from '../../server/capture/search-turns.ts';

describe('SearchTurns', () => {
  it('one slice per turn of the event loop, round robin; free again once every search is done', async () => {
    const turns = new SearchTurns();
    const log: string[] = [];
    // A turn of the event loop, as I/O sees it: a marker set each time a fresh immediate runs.
    let loopTurn = 0;
    let ticking = true;
    const tick = () => {
      loopTurn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const search = async (name: string, slices: number) => {
      await turns.take();
      try {
        for (let i = 0; i < slices; i++) {
          if (i > 0) await turns.pass();
          log.push(`${name}${i}@${loopTurn}`);
        }
      } finally {
        turns.release();
      }
    };
    await Promise.all([search('a', 3), search('b', 2), search('c', 2)]);
    ticking = false;
    expect(log.map((x) => x.split('@')[0])).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'c1', 'a2']);
    // No two slices in the same turn of the loop.
    const at = log.map((x) => Number(x.split('@')[1]));
    expect(new Set(at).size).toBe(at.length);
    expect(turns.queued).toBe(0);
    // Free: a new search starts at once.
    let started = false;
    void turns.take().then(() => (started = true));
    await Promise.resolve();
    expect(started).toBe(true);
    turns.release();
  });
});
