import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ThrottledCount } from '../../server/lib/throttled-count.ts';

describe('a count told in the log at most once per interval', () => {
  let lines: [number, string][];
  let t: ThrottledCount<string>;
  beforeEach(() => {
    vi.useFakeTimers();
    lines = [];
    t = new ThrottledCount<string>({ intervalMs: 10_000, write: (n, latest) => lines.push([n, latest]) });
  });
  afterEach(() => {
    t.flush();
    vi.useRealTimers();
  });

  it('tells the first at once, sums the rest of the interval into one line at its end', () => {
    t.add('a');
    expect(lines).toEqual([[1, 'a']]);
    vi.advanceTimersByTime(1_000);
    t.add('b');
    t.add('c');
    t.add('d');
    expect(lines).toEqual([[1, 'a']]);
    vi.advanceTimersByTime(8_999);
    expect(lines).toEqual([[1, 'a']]);
    vi.advanceTimersByTime(1);
    // The last burst is told even though nothing came after it (the timer, not a later event).
    expect(lines).toEqual([[1, 'a'], [3, 'd']]);
  });

  it('after a quiet interval, the next one is told at once again', () => {
    t.add('a');
    vi.advanceTimersByTime(25_000);
    t.add('b');
    expect(lines).toEqual([[1, 'a'], [1, 'b']]);
  });

  it('the line at the end of an interval starts the next one', () => {
    t.add('a');
    vi.advanceTimersByTime(5_000);
    t.add('b'); // told at 10 s
    vi.advanceTimersByTime(6_000);
    t.add('c'); // 11 s: within 10 s of that line, so told at 20 s
    vi.advanceTimersByTime(8_999);
    expect(lines).toEqual([[1, 'a'], [1, 'b']]);
    vi.advanceTimersByTime(1);
    expect(lines).toEqual([[1, 'a'], [1, 'b'], [1, 'c']]);
  });

  it('flush tells what is pending at once (on close), and nothing when nothing is', () => {
    t.add('a');
    t.add('b');
    t.flush();
    expect(lines).toEqual([[1, 'a'], [1, 'b']]);
    t.flush();
    vi.advanceTimersByTime(60_000);
    expect(lines).toEqual([[1, 'a'], [1, 'b']]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
