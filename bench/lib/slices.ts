// A/B in alternating slices: both sides in one warm process, loaded by turns in short slices
// (A B B A A B ...), so that both see the same machine state. On this VM the cost of system
// calls flips between two levels every ~10 s (see README "Results log", 2026-12-02 evening),
// faster than a 12 s round; a pair of rounds run one after the other then compares two
// different machines. Slices of a few seconds, many times over, do not.
import { median } from './rounds.ts';

export const SLICE_PAIRS = Math.max(1, Number(process.env.BENCH_SLICE_PAIRS ?? 10));
export const SLICE_S = Math.max(1, Number(process.env.BENCH_SLICE_S ?? 2));

export interface SliceResult {
  /** Units of work done (captures). */
  done: number;
  /** Seconds from the start of the load until the last of them was complete. */
  seconds: number;
}

export interface Sliced {
  a: SliceResult[];
  b: SliceResult[];
  /** B's rate ÷ A's over all slices (total work ÷ total time, each side). */
  pooled: number;
  /** B ÷ A of each pair of slices next to each other, lowest first. */
  pairs: number[];
  median: number;
}

const rate = (r: SliceResult) => r.done / r.seconds;

/** Run `pairs` pairs of slices, A then B, then B then A, and so on (ABBA: neither always goes first). */
export async function alternate(a: () => Promise<SliceResult>, b: () => Promise<SliceResult>, pairs = SLICE_PAIRS): Promise<Sliced> {
  const as: SliceResult[] = [];
  const bs: SliceResult[] = [];
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      as.push(await a());
      bs.push(await b());
    } else {
      bs.push(await b());
      as.push(await a());
    }
  }
  return summarize(as, bs);
}

export function summarize(as: SliceResult[], bs: SliceResult[]): Sliced {
  const total = (rs: SliceResult[]) => rs.reduce((t, r) => ({ done: t.done + r.done, seconds: t.seconds + r.seconds }), { done: 0, seconds: 0 });
  const ps = as.map((x, i) => rate(bs[i]) / rate(x)).sort((p, q) => p - q);
  return { a: as, b: bs, pooled: rate(total(bs)) / rate(total(as)), pairs: ps, median: median(ps) };
}
