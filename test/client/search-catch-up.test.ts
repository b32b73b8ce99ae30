// Where a filtered list's questions to the server start (see search-catch-up.ts).
import { describe, expect, it } from 'vitest';
import { SearchCatchUp } from '../../client/src/lib/search-catch-up.ts';

const id = (n: number) => `id${String(n).padStart(6, '0')}`;

describe('SearchCatchUp', () => {
  it('starts a question just after the capture announced before the oldest one asked about', () => {
    const s = new SearchCatchUp();
    s.setFloor(id(0));
    for (let n = 1; n <= 5; n++) s.announce(id(n));
    s.ask(id(4));
    s.ask(id(5));
    expect(s.take()).toEqual({ low: id(4), after: id(3) });
    expect(s.take()).toBeNull();
  });

  it('keeps that start however many captures come before the question is asked (a burst during a slow search)', () => {
    const s = new SearchCatchUp();
    s.setFloor(id(0));
    s.announce(id(1));
    s.announce(id(2));
    s.ask(id(2));
    for (let n = 3; n <= 5000; n++) {
      s.announce(id(n));
      s.ask(id(n));
    }
    expect(s.take()).toEqual({ low: id(2), after: id(1) });
  });

  it('with nothing announced before it, starts at the first page read (or the whole bin when it read empty)', () => {
    const s = new SearchCatchUp();
    s.setFloor(id(10));
    s.announce(id(11));
    s.ask(id(11));
    expect(s.take()).toEqual({ low: id(11), after: id(10) });
    const empty = new SearchCatchUp();
    empty.setFloor(undefined);
    empty.announce(id(1));
    empty.ask(id(1));
    expect(empty.take()).toEqual({ low: id(1), after: undefined });
  });

  it('a capture announced out of order moves the start down', () => {
    const s = new SearchCatchUp();
    s.setFloor(id(0));
    for (const n of [1, 2, 5, 3]) s.announce(id(n));
    s.ask(id(5));
    s.ask(id(3));
    expect(s.take()).toEqual({ low: id(3), after: id(2) });
  });

  it('asked before the first page was read: the question waits for it, and starts there (not a search of the whole bin)', () => {
    const s = new SearchCatchUp();
    s.announce(id(11));
    s.ask(id(11));
    expect(s.take()).toBeNull();
    s.setFloor(id(10));
    expect(s.take()).toEqual({ low: id(11), after: id(10) });
  });

  it('a question that failed (offline) is asked again, merged with what came since', () => {
    const s = new SearchCatchUp();
    s.setFloor(id(0));
    for (let n = 1; n <= 6; n++) s.announce(id(n));
    s.ask(id(3));
    const q = s.take()!;
    s.ask(id(6));
    s.failed(q);
    expect(s.take()).toEqual({ low: id(3), after: id(2) });
    s.failed({ low: id(4), after: undefined });
    expect(s.waiting).toBe(true);
    expect(s.take()).toEqual({ low: id(4), after: undefined });
  });
});
