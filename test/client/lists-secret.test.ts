// Merging live requests, and secrets made in the browser.
import { describe, expect, it } from 'vitest';
import { isValidSecret as serverAccepts } from '../../server/dispatch/signing.ts';
import { mergeRequests, removeRequests } from '../../client/src/lib/request-list.ts';
import { generateSecret, isValidSecret } from '../../client/src/lib/secret.ts';
import type { RequestItem } from '../../shared/api.ts';

const r = (id: string) => ({ id }) as RequestItem;
const ids = (l: RequestItem[]) => l.map((x) => x.id);

describe('mergeRequests', () => {
  it('keeps newest first, unique, whatever order and overlap arrives', () => {
    const known = new Set<string>();
    let { list } = mergeRequests([], [r('03'), r('01'), r('02')], known);
    expect(ids(list)).toEqual(['03', '02', '01']);
    // live: newer ones, with a duplicate (backfill overlap)
    const m = mergeRequests(list, [r('05'), r('03'), r('04'), r('05')], known);
    expect(ids(m.list)).toEqual(['05', '04', '03', '02', '01']);
    expect(ids(m.added)).toEqual(['05', '04']);
    list = m.list;
    // an older page
    list = mergeRequests(list, [r('00')], known).list;
    expect(ids(list)).toEqual(['05', '04', '03', '02', '01', '00']);
    // interleaved (out-of-order arrival)
    list = mergeRequests(list, [r('025'), r('06')], known).list;
    expect(ids(list)).toEqual(['06', '05', '04', '03', '025', '02', '01', '00']);
  });
  it('answers the same list object when nothing is new (no re-render)', () => {
    const known = new Set(['01']);
    const list = [r('01')];
    expect(mergeRequests(list, [r('01')], known).list).toBe(list);
  });
  it('removes ids or everything', () => {
    const known = new Set(['01', '02', '03']);
    expect(ids(removeRequests([r('03'), r('02'), r('01')], ['02'], known))).toEqual(['03', '01']);
    expect(known.has('02')).toBe(false);
    expect(removeRequests([r('03')], 'all', known)).toEqual([]);
    expect(known.size).toBe(0);
  });
});

describe('generateSecret', () => {
  it('makes whsec_ secrets the server accepts, different each time', () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(a).not.toBe(b);
    expect(serverAccepts(a)).toBe(true);
    expect(isValidSecret(a)).toBe(true);
  });
  it('agrees with the server on what is valid', () => {
    for (const s of ['whsec_', 'whsec_abc', 'nope_' + 'A'.repeat(32), generateSecret(16), generateSecret(64), generateSecret(65), 'whsec_' + 'A'.repeat(22) + '==', 'whsec_!!!!']) {
      expect(isValidSecret(s), s).toBe(serverAccepts(s));
    }
  });
});
