// The benchmarks' A/B verdict: the median of rounds run side by side.
import { describe, expect, it } from 'vitest';
import { pairedGoal, pairedRatios } from '../../bench/lib/rounds.ts';
import { monotonicUs } from '../../bench/lib/profile.ts';
import { alternate, runSlice, summarize } from '../../bench/lib/slices.ts';

const r = (round: number, rate: number, othersCpuPct = 0) => ({ round, rate, othersCpuPct, stealPct: 0, cpu: 100 });
const rate = (x: { rate: number }) => x.rate;
const cpu = (x: { cpu: number }) => x.cpu;

describe('paired rounds', () => {
  it('pairs rounds by number and leaves out a pair with a disturbed side', () => {
    const a = [r(1, 90), r(2, 80), r(3, 50, 60)];
    const b = [r(1, 100), r(2, 100), r(3, 100)];
    expect(pairedRatios(a, b, rate)).toEqual([0.8, 0.9]);
  });

  it('one lucky baseline round does not decide: the median of the pairs does', () => {
    const on = [r(1, 101), r(2, 97), r(3, 68)];
    const off = [r(1, 100), r(2, 100), r(3, 115)];
    const g = pairedGoal(on, off, rate, cpu, 0.9);
    expect(g.pairs.map((p) => Math.round(p * 100))).toEqual([59, 97, 101]);
    expect(g.ratio).toBeCloseTo(0.97, 5);
    expect(g.pass).toBe(true);
    expect(g.value).toContain('median of 3 paired rounds');
    expect(g.value).toContain('best vs best 0.88x');
    // Most pairs below the line: a miss.
    expect(pairedGoal([r(1, 85), r(2, 97), r(3, 80)], off, rate, cpu, 0.9).pass).toBe(false);
  });

  it('with fewer than 3 quiet pairs, best against best decides', () => {
    const on = [r(1, 95), r(2, 40, 80)];
    const off = [r(1, 100), r(2, 100)];
    const g = pairedGoal(on, off, rate, cpu, 0.9);
    expect(g.ratio).toBeCloseTo(0.95, 5);
    expect(g.value).toContain('best vs best');
  });
});

describe('alternating slices', () => {
  it('runs A and B by turns, ABBA, and compares the pooled rates and each pair', async () => {
    const order: string[] = [];
    let i = 0;
    // A does 100 per second; B 90, except one slow slice (45) as a state flip would make.
    const a = async () => (order.push('a'), { done: 100, seconds: 1 });
    const b = async () => (order.push('b'), { done: i++ === 2 ? 45 : 90, seconds: 1 });
    const s = await alternate(a, b, 4);
    expect(order.join('')).toBe('abbaabba');
    expect(s.pairs.map((p) => Math.round(p * 100))).toEqual([45, 90, 90, 90]);
    expect(s.median).toBeCloseTo(0.9, 5);
    // Pooled: 315 done in 4 s against 400 in 4 s.
    expect(s.pooled).toBeCloseTo(315 / 400, 5);
    // Rates, not counts: a slice that took longer counts for what it did per second.
    expect(summarize([{ done: 100, seconds: 2 }], [{ done: 100, seconds: 1 }]).pooled).toBeCloseTo(2, 5);
  });
});

describe('one slice', () => {
  it('counts the work done during it and times it until the last of it was complete, not until the wait noticed', async () => {
    let count = 7; // work from before the slice is not counted
    let last = 0;
    const r = await runSlice({
      count: () => count,
      load: async () => {
        const t = monotonicUs();
        count += 50;
        last = t + 500_000; // the last of it seen complete 0.5 s after the load began
        return 50;
      },
      settled: (n, answered) => n >= answered,
      lastUs: () => last,
    });
    expect(r.done).toBe(50);
    expect(r.settled).toBe(true);
    expect(r.seconds).toBeGreaterThan(0.45);
    expect(r.seconds).toBeLessThan(0.55);
  });
});
