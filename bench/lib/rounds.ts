// Interleaved rounds: which count. A round is "disturbed" when other processes (or the
// hypervisor's steal) took more than DISTURBED_PCT of a core while it ran: a neighbour may
// have slowed it, so the best undisturbed round of each kind is the one compared.
import { DISTURBED_PCT } from './proc.ts';
import { x } from './table.ts';

export interface MeasuredRound {
  othersCpuPct: number | null;
  stealPct: number | null;
}

export const disturbed = (r: MeasuredRound) => (r.othersCpuPct ?? 0) + (r.stealPct ?? 0) > DISTURBED_PCT;

/** The highest-scoring undisturbed round among `mine`; the highest of all when every one was disturbed. */
export function bestRound<R extends MeasuredRound>(mine: R[], score: (r: R) => number): R {
  const quiet = mine.filter((r) => !disturbed(r));
  return (quiet.length ? quiet : mine).reduce((a, b) => (score(b) > score(a) ? b : a));
}

/** Spread of the undisturbed rounds: (highest - lowest) / highest, in %; null with fewer than 2. */
export function spreadPct<R extends MeasuredRound>(mine: R[], score: (r: R) => number): number | null {
  const q = mine.filter((r) => !disturbed(r)).map(score);
  return q.length < 2 ? null : Math.round(((Math.max(...q) - Math.min(...q)) / Math.max(...q)) * 100);
}

export interface RatioGoal {
  /** measured / baseline, by rate. */
  ratio: number;
  /** Either round was disturbed: the CPU-bound figure must hold too. */
  noisy: boolean;
  /** The same ratio from CPU per unit of work (baseline's / measured's): steadier when noisy. */
  cpuBound: number;
  /** For the goal table: the ratio, and the CPU-bound figure when noisy. */
  value: string;
  pass: boolean;
}

/** A "measured >= min × baseline" goal, with the CPU-bound fallback every benchmark applies. */
export function ratioGoal<R extends MeasuredRound>(measured: R, baseline: R, rate: (r: R) => number, cpuPerUnit: (r: R) => number | null, min: number): RatioGoal {
  const ratio = rate(measured) / rate(baseline);
  const noisy = disturbed(measured) || disturbed(baseline);
  const m = cpuPerUnit(measured);
  const b = cpuPerUnit(baseline);
  const cpuBound = m && b ? b / m : NaN;
  return { ratio, noisy, cpuBound, value: x(ratio) + (noisy ? ` (!) (CPU-bound: ${x(cpuBound)})` : ''), pass: ratio >= min && (!noisy || cpuBound >= min) };
}

/** measured ÷ baseline of the rounds run side by side (same round number, neither disturbed), lowest first. */
export function pairedRatios<R extends MeasuredRound & { round: number }>(measured: R[], baseline: R[], rate: (r: R) => number): number[] {
  const out: number[] = [];
  for (const m of measured) {
    const b = baseline.find((z) => z.round === m.round);
    if (b && !disturbed(m) && !disturbed(b)) out.push(rate(m) / rate(b));
  }
  return out.sort((p, q) => p - q);
}

/** The median of numbers sorted lowest first. */
export const median = (sorted: number[]) => {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
};

/** Fewest side-by-side pairs the median goal needs; with fewer, best against best decides. */
export const MIN_PAIRS = 3;

/**
 * A "measured >= min × baseline" goal for an A/B of interleaved rounds: the median of the
 * side-by-side ratios. Rounds next to each other ran on the machine in the same state, and the
 * median shrugs off one lucky or unlucky round, which best-against-best does not: on these
 * VMs one side's single fast round (the rest 10-25 % slower) decided it. Shown with the
 * lowest and highest pair and best against best; with fewer than MIN_PAIRS quiet pairs,
 * best against best decides (ratioGoal, with its CPU-bound check).
 */
export function pairedGoal<R extends MeasuredRound & { round: number }>(
  measured: R[],
  baseline: R[],
  rate: (r: R) => number,
  cpuPerUnit: (r: R) => number | null,
  min: number,
): RatioGoal & { pairs: number[] } {
  const best = ratioGoal(bestRound(measured, rate), bestRound(baseline, rate), rate, cpuPerUnit, min);
  const pairs = pairedRatios(measured, baseline, rate);
  if (pairs.length < MIN_PAIRS) return { ...best, value: `${best.value} (best vs best: ${pairs.length} quiet pairs)`, pairs };
  const ratio = median(pairs);
  return {
    ratio,
    noisy: false,
    cpuBound: best.cpuBound,
    value: `${x(ratio)} (median of ${pairs.length} paired rounds, ${x(pairs[0])}-${x(pairs[pairs.length - 1])}; best vs best ${x(best.ratio)})`,
    pass: ratio >= min,
    pairs,
  };
}
