// SearchTurns: body searches match bodies in slices, one search holding the slice at a time,
// at most one slice per turn of the event loop however many wait, in turn (round robin); a
// search that leaves holds and waits for nothing; past `max` searches a new one is refused.
import { describe, expect, it } from 'vitest';
import { SearchTurns, SearchesFullError } from '../../server/capture/search-turns.ts';

/** A clock the test moves: each piece of work "takes" `step` ms. */
function setup(max?: number) {
  let t = 0;
  const turns = new SearchTurns({ max, sliceMs: 20, now: () => t });
  const spend = (ms: number) => (t += ms);
  return { turns, spend };
}

describe('SearchTurns', () => {
  it('one slice per turn of the event loop, round robin; free again once every search is done', async () => {
    const { turns, spend } = setup();
    const log: string[] = [];
    // A turn of the event loop, as I/O sees it: counted each time a fresh immediate runs.
    let loopTurn = 0;
    let ticking = true;
    const tick = () => {
      loopTurn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    // Each piece of work takes 15 ms. Alone, a search keeps the slice until it runs out (20 ms:
    // at the second piece); while others wait, the slice goes on after each piece.
    const search = async (name: string, pieces: number) => {
      const who = turns.join();
      try {
        for (let i = 0; i < pieces; i++) await turns.work(who, () => log.push(`${name}${i}@${loopTurn}`) && spend(15));
      } finally {
        turns.leave(who);
      }
    };
    await Promise.all([search('a', 4), search('b', 2), search('c', 2)]);
    ticking = false;
    // a alone at first: two pieces in its slice; then the others wait, and it goes round.
    expect(log.map((x) => x.split('@')[0])).toEqual(['a0', 'a1', 'b0', 'c0', 'a2', 'b1', 'c1', 'a3']);
    const at = log.map((x) => Number(x.split('@')[1]));
    expect(at[1]).toBe(at[0]);
    // No two searches' pieces in one turn of the loop.
    expect(new Set(at.slice(1)).size).toBe(7);
    expect(turns.queued).toBe(0);
    expect(turns.size).toBe(0);
    // Free (once the last hand-on has run): a new search works at once.
    await new Promise((r) => setImmediate(r));
    const who = turns.join();
    let ran = false;
    void turns.work(who, () => (ran = true));
    await Promise.resolve();
    expect(ran).toBe(true);
    turns.leave(who);
  });

  it('a search whose asker has gone, woken for its turn, does no work; one that leaves while waiting is passed over; past max a new one is refused', async () => {
    const { turns, spend } = setup(3);
    const a = turns.join();
    const b = turns.join();
    const c = turns.join();
    expect(() => turns.join()).toThrow(SearchesFullError);
    await turns.work(a, () => spend(25)); // a's slice ran out: handed on
    let bGone = false;
    const ran: string[] = [];
    const bWork = turns.work(b, () => ran.push('b'), () => bGone);
    const cWork = turns.work(c, () => ran.push('c'));
    bGone = true;
    expect(await bWork).toBeNull();
    turns.leave(b);
    await cWork;
    expect(ran).toEqual(['c']);
    turns.leave(a);
    turns.leave(c);
    expect(turns.size).toBe(0);
    expect(() => turns.leave(turns.join())).not.toThrow();
  });
});
