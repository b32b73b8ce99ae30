import { describe, expect, it } from 'vitest';
import { eachLimited } from '../../server/lib/each-limited.ts';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('eachLimited', () => {
  it('runs every step, never more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await eachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      most = Math.max(most, running);
      await tick();
      done.push(n);
      running--;
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  it('throws the first failure only once every started step has settled, and starts no more', async () => {
    const started: number[] = [];
    let settled = 0;
    const run = eachLimited([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      await tick();
      settled++;
      if (n === 2) throw new Error('two');
      if (n === 3) throw new Error('three');
    });
    await expect(run).rejects.toThrow('two');
    // 1 and 2 ran together; 2 failed, so only the step already running beside it (3) went on.
    expect(started).toEqual([1, 2, 3]);
    expect(settled).toBe(started.length);
  });

  it('takes any iterable, and a limit below 1 as 1', async () => {
    const seen: string[] = [];
    await eachLimited(new Map([['a', 1], ['b', 2]]).keys(), 0, async (k) => {
      seen.push(k);
    });
    expect(seen).toEqual(['a', 'b']);
  });
});
