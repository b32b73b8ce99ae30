// A read's answer is merged with the live events that came while it was out, per id.
import { describe, expect, it } from 'vitest';
import { liveDuring } from '../../client/src/lib/live-during.ts';
import { deferred } from '../helpers/deferred.ts';

describe('liveDuring', () => {
  it('answers the last value of each id noted while the read was out, none from before it or while no read was out', async () => {
    const l = liveDuring<string>();
    l.note('a', 'before any read');
    const first = deferred<number>();
    const second = deferred<number>();
    const r1 = l.read(() => first.promise);
    l.note('a', 'a1');
    const r2 = l.read(() => second.promise);
    l.note('b', 'b1');
    l.note('a', 'a2');
    first.resolve(1);
    expect(await r1).toEqual({ answer: 1, during: new Map([['b', 'b1'], ['a', 'a2']]) });
    l.note('c', 'c1');
    second.resolve(2);
    expect(await r2).toEqual({ answer: 2, during: new Map([['b', 'b1'], ['a', 'a2'], ['c', 'c1']]) });
    l.note('d', 'no read out');
    expect((await l.read(async () => 3)).during.size).toBe(0);
  });
  it('a failed read still stops the noting', async () => {
    const l = liveDuring<string>();
    await expect(l.read(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    l.note('a', 'x');
    expect((await l.read(async () => 0)).during.size).toBe(0);
  });
});
