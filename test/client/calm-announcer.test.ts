// Live-region news at a screen reader's pace (client/src/lib/calm-announcer.ts): the first at
// once, the rest of an interval summed up at its end, on a clock the test moves.
import { describe, expect, it } from 'vitest';
import { CalmAnnouncer, type Timers } from '../../client/src/lib/calm-announcer.ts';

/** A clock moved by hand: due timers run as it passes them. */
function manualClock() {
  let t = 0;
  let due: { at: number; fn: () => void }[] = [];
  const timers: Timers = {
    now: () => t,
    set: (fn, ms) => {
      const entry = { at: t + ms, fn };
      due.push(entry);
      return entry;
    },
    clear: (h) => void (due = due.filter((d) => d !== h)),
  };
  const advance = (ms: number) => {
    const end = t + ms;
    for (;;) {
      const next = due.filter((d) => d.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      due = due.filter((d) => d !== next);
      t = next.at;
      next.fn();
    }
    t = end;
  };
  return { timers, advance, pending: () => due.length };
}

/** Captures counted as they come, summed up when told. */
function setup() {
  const clock = manualClock();
  const said: [number, string][] = [];
  let pending = 0;
  const a = new CalmAnnouncer(
    () => {
      if (!pending) return null;
      const text = pending === 1 ? '1 new request' : `${pending} new requests`;
      pending = 0;
      return text;
    },
    (text) => said.push([clock.timers.now(), text]),
    5000,
    clock.timers,
  );
  const arrive = (n = 1) => {
    pending += n;
    a.poke();
  };
  return { clock, said, arrive, a };
}

describe('CalmAnnouncer', () => {
  it('tells the first news at once and sums a burst into one announcement at the end of the interval', () => {
    const { clock, said, arrive } = setup();
    arrive();
    expect(said).toEqual([[0, '1 new request']]);
    for (let i = 0; i < 40; i++) {
      clock.advance(50);
      arrive();
    }
    expect(said).toHaveLength(1);
    clock.advance(5000);
    expect(said).toEqual([
      [0, '1 new request'],
      [5000, '40 new requests'],
    ]);
  });

  it('a steady stream is told once per interval, never more', () => {
    const { clock, said, arrive } = setup();
    for (let i = 0; i < 600; i++) {
      arrive();
      clock.advance(100);
    }
    // 60 s of captures every 100 ms: one announcement per 5 s.
    expect(said.length).toBeLessThanOrEqual(13);
    for (let i = 1; i < said.length; i++) expect(said[i][0] - said[i - 1][0]).toBeGreaterThanOrEqual(5000);
    expect(said.reduce((sum, [, t]) => sum + Number(/^\d+/.exec(t)![0]), 0)).toBeLessThanOrEqual(600);
  });

  it('after a quiet interval the next news is told at once again', () => {
    const { clock, said, arrive } = setup();
    arrive();
    clock.advance(12_000);
    arrive();
    expect(said).toEqual([
      [0, '1 new request'],
      [12_000, '1 new request'],
    ]);
  });

  it('says nothing when compose has nothing to say, and stop() drops a pending announcement', () => {
    const { clock, said, arrive, a } = setup();
    a.poke();
    expect(said).toEqual([]);
    arrive();
    arrive(3);
    a.stop();
    clock.advance(10_000);
    expect(said).toEqual([[0, '1 new request']]);
  });
});
