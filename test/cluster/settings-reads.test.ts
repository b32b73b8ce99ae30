// Overlapping reads of an instance's copy of per-bin settings (cluster/settings-copy.ts): an
// older read never overwrites a newer one, nor a change made here while it was out.
import { describe, expect, it } from 'vitest';
import { SettingsReads } from '../../server/cluster/settings-copy.ts';
import { deferred } from '../helpers/deferred.ts';


type V = { v: string };
const apply = (copy: Map<string, V>) => (r: V | undefined, use: (id: string, fn: () => void) => void) =>
  use('b', () => (r ? copy.set('b', r) : copy.delete('b')));

describe('SettingsReads', () => {
  it('a whole reload sent before a bin\'s reload, answered after it, does not undo it', async () => {
    const copy = new Map<string, V>([['b', { v: 'old' }]]);
    const reads = new SettingsReads(copy);
    const all = deferred<V[]>();
    const one = deferred<V | undefined>();
    const loading = reads.read(null, () => all.promise, (list, use) => {
      for (const x of list) use('b', () => copy.set('b', x));
    });
    const reloading = reads.read('b', () => one.promise, apply(copy));
    one.resolve({ v: 'new' });
    await reloading;
    all.resolve([{ v: 'old' }]);
    await loading;
    expect(copy.get('b')).toEqual({ v: 'new' });
  });

  it("a newer whole reload answered after an older bin's reload applies", async () => {
    const copy = new Map<string, V>([['b', { v: 'v1' }]]);
    const reads = new SettingsReads(copy);
    const one = deferred<V | undefined>();
    const all = deferred<V[]>();
    const reloading = reads.read('b', () => one.promise, apply(copy));
    const loading = reads.read(null, () => all.promise, (list, use) => {
      for (const x of list) use('b', () => copy.set('b', x));
    });
    one.resolve({ v: 'v2' });
    await reloading;
    all.resolve([{ v: 'v3' }]);
    await loading;
    expect(copy.get('b')).toEqual({ v: 'v3' });
  });

  it('a change made here while a read is out is kept', async () => {
    const copy = new Map<string, V>([['b', { v: 'old' }]]);
    const reads = new SettingsReads(copy);
    const one = deferred<V | undefined>();
    const reloading = reads.read('b', () => one.promise, apply(copy));
    copy.delete('b'); // this instance turned it off meanwhile
    one.resolve({ v: 'old' });
    await reloading;
    expect(copy.has('b')).toBe(false);
    // With nothing in flight, the next read applies as it is.
    await reads.read('b', async () => ({ v: 'later' }), apply(copy));
    expect(copy.get('b')).toEqual({ v: 'later' });
  });
});
