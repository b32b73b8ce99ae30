// Issue 4: the virtual clock, driven by a fake wall clock.
import { describe, expect, it } from 'vitest';
import { END_OF_TIME, VirtualClock } from '../../server/dispatch/clock.ts';

function fake(start = 1_000_000) {
  let t = start;
  return { now: () => t, tick: (ms: number) => (t += ms) };
}

describe('virtual clock', () => {
  it('starts at wall time and runs at scale 1', () => {
    const w = fake();
    const c = new VirtualClock(w.now, null);
    expect(c.now()).toBe(1_000_000);
    w.tick(500);
    expect(c.now()).toBe(1_000_500);
  });

  it('runs scale times faster; 1440x makes 24 h in a minute', () => {
    const w = fake();
    const c = new VirtualClock(w.now, null);
    c.setScale(1440);
    const start = c.now();
    w.tick(60_000);
    expect(c.now() - start).toBe(86_400_000);
    expect(c.realDelayUntil(c.now() + 1440)).toBe(1);
  });

  it('pauses and resumes without a jump', () => {
    const w = fake();
    const c = new VirtualClock(w.now, null);
    c.setPaused(true);
    const t = c.now();
    w.tick(10_000);
    expect(c.now()).toBe(t);
    expect(c.realDelayUntil(t + 1)).toBe(Infinity);
    c.setPaused(false);
    w.tick(5);
    expect(c.now()).toBe(t + 5);
  });

  it('jumps forward only', () => {
    const w = fake();
    const c = new VirtualClock(w.now, null);
    c.jumpTo(c.now() + 3_600_000);
    expect(c.now()).toBe(1_000_000 + 3_600_000);
    c.jumpTo(0);
    expect(c.now()).toBe(1_000_000 + 3_600_000);
  });

  it('restores from its persisted anchor and keeps running at its scale', () => {
    const w = fake();
    const c = new VirtualClock(w.now, null);
    c.setScale(60);
    w.tick(1000);
    const saved = c.persisted();
    const at = c.now();
    w.tick(1000); // server down for a second
    const c2 = new VirtualClock(w.now, saved);
    expect(c2.now()).toBe(at + 60_000);
    expect(c2.scale).toBe(60);
  });

  it('tells listeners about changes', () => {
    const c = new VirtualClock(fake().now, null);
    let n = 0;
    const off = c.onChange(() => n++);
    c.setScale(2);
    c.setPaused(true);
    off();
    c.setScale(3);
    expect(n).toBe(2);
  });
});

// Issue 12: the dispatcher holds the clock at what is due and not yet sent.
describe('virtual clock: hold', () => {
  it('reads at most the hold, then catches up with its speed once released; never goes back', () => {
    const w = fake();
    const c = new VirtualClock(w.now, null);
    c.setScale(100);
    c.hold(1_000_000 + 500);
    w.tick(1000); // projected: +100 s
    expect(c.now()).toBe(1_000_500);
    expect(c.behind()).toBe(100_000 - 500);
    c.hold(1_000_000 + 2000);
    expect(c.now()).toBe(1_002_000);
    c.hold(1_000_000); // below what was read: stays
    expect(c.now()).toBe(1_002_000);
    c.hold(null);
    expect(c.now()).toBe(1_000_000 + 100_000);
    expect(c.behind()).toBe(0);
  });

  it('a restart resumes at the first thing held, not where the speed would have it', () => {
    const w = fake();
    const c = new VirtualClock(w.now, null);
    const saved = c.persisted();
    w.tick(3_600_000);
    const again = new VirtualClock(w.now, saved);
    again.hold(1_000_000 + 5000);
    expect(again.now()).toBe(1_005_000);
  });

  it('changing the speed while held re-anchors at the held instant', () => {
    const w = fake();
    const c = new VirtualClock(w.now, null);
    c.hold(1_000_000 + 10);
    w.tick(1000);
    c.setScale(2);
    c.hold(null);
    expect(c.now()).toBe(1_000_010);
    w.tick(5);
    expect(c.now()).toBe(1_000_020);
  });

  it('stops at the end of year 9999: at the top speed it got past it in minutes, and every time it stamped broke ISO 8601 (+010309-…)', () => {
    const w = fake();
    const c = new VirtualClock(w.now, null);
    c.setScale(1e9);
    w.tick(10 * 60_000);
    expect(c.now()).toBe(END_OF_TIME);
    expect(new Date(c.now()).toISOString()).toBe('9999-12-31T23:59:59.999Z');
    c.jumpTo(END_OF_TIME + 86_400_000);
    expect(c.now()).toBe(END_OF_TIME);
    // What is planned after it never falls due (no timer for it).
    expect(c.realDelayUntil(END_OF_TIME + 1)).toBe(Infinity);
    // A clock saved past it (before this rule) reads the end too.
    expect(new VirtualClock(w.now, { virtualMs: END_OF_TIME + 5e12, realMs: w.now(), scale: 1, paused: true }).now()).toBe(END_OF_TIME);
  });
});
