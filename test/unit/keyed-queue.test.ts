// KeyedQueue: tasks on one key run one at a time in arrival order (a failed one does not stop
// the next); tasks on other keys do not wait; an idle key is forgotten.
import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../server/lib/keyed-queue.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedQueue', () => {
  it('runs the tasks of one key one after another, in order, past a failure; other keys go at once; idle keys are forgotten', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const a = q.run('k', async () => {
      log.push('a start');
      await held;
      log.push('a end');
      return 'a';
    });
    const b = q.run('k', async () => {
      log.push('b');
      throw new Error('b failed');
    });
    const c = q.run('k', async () => {
      log.push('c');
      return 'c';
    });
    const other = q.run('other', async () => {
      log.push('other');
      return 1;
    });
    await other;
    await tick();
    expect(log).toEqual(['a start', 'other']);
    expect(q.size).toBe(1);
    release();
    expect(await a).toBe('a');
    await expect(b).rejects.toThrow('b failed');
    expect(await c).toBe('c');
    expect(log).toEqual(['a start', 'other', 'a end', 'b', 'c']);
    await tick();
    expect(q.size).toBe(0);
  });
});
