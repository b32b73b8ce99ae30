// KeyedQueue: tasks on one key run one at a time in arrival order (a failed one does not stop
// the next); tasks on other keys do not wait; an idle key is forgotten.
import { describe, expect, it } from 'vitest';
import { KeyedQueue, QueueFullError } from '../../server/lib/keyed-queue.ts';

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

  it('takes at most maxPerKey tasks on a key at once (QueueFullError past it), unless told to always; the count comes back as they end', async () => {
    const q = new KeyedQueue(2);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const a = q.run('k', () => held);
    const b = q.run('k', async () => 'b');
    await expect(q.run('k', async () => 'c')).rejects.toBeInstanceOf(QueueFullError);
    expect(q.pending('k')).toBe(2);
    // Another key is not counted with it.
    expect(await q.run('other', async () => 'o')).toBe('o');
    const removal = q.run('k', async () => 'removal', true);
    expect(q.pending('k')).toBe(3);
    release();
    await a;
    expect([await b, await removal]).toEqual(['b', 'removal']);
    await tick();
    expect(q.pending('k')).toBe(0);
    expect(await q.run('k', async () => 'again')).toBe('again');
  });
});
