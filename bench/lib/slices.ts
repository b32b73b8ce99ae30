// A/B in alternating slices: both sides in one warm process, loaded by turns in short slices
// (A B B A A B ...), so that both see the same machine state. On this VM the cost of system
// calls flips between two levels every ~10 s (see README "Results log", 2026-12-02 evening),
// faster than a 12 s round; a pair of rounds run one after the other then compares two
// different machines. Slices of a few seconds, many times over, do not.
import { monotonicUs } from './profile.ts';
import { median } from './rounds.ts';
import { round } from './stats.ts';
import { x } from './table.ts';
import { sleep, waitFor } from './time.ts';

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

/** A slice's flush happens before the other side's slice starts. */
const FLUSH_GAP_MS = 300;

export interface SliceSpec {
  /** Work completed so far on this side (live events counted). */
  count: () => number;
  /** Put the load on for SLICE_S; answers how many requests were answered 2xx. */
  load: () => Promise<number>;
  /** Whether the slice's work is all done: `n` completed of `answered` (may also check elsewhere). */
  settled: (n: number, answered: number) => boolean | Promise<boolean>;
  /** When (monotonicUs) the last of the work was seen complete. */
  lastUs: () => number;
  boundMs?: number;
}

/** One slice, sustained: its work ÷ the time from the start of the load until the last of it was complete. */
export async function runSlice(o: SliceSpec): Promise<SliceResult & { settled: boolean }> {
  const from = o.count();
  const t0 = monotonicUs();
  const answered = await o.load();
  const settled = await waitFor(() => o.settled(o.count() - from, answered), o.boundMs ?? 60_000, 20);
  const done = o.count() - from;
  const seconds = (Math.max(o.lastUs(), t0) - t0) / 1e6;
  await sleep(FLUSH_GAP_MS);
  return { done, seconds, settled };
}

/** For a benchmark's notes: B ÷ A pooled and paired, then each side's slice rates. */
export function slicedText(s: Sliced, a: string, b: string): string {
  const rates = (rs: SliceResult[]) => rs.map((r) => Math.round(rate(r))).join(', ');
  return (
    `${b} ÷ ${a} ${x(s.pooled)} over all slices, median of the pairs ${x(s.median)} (${x(s.pairs[0])}-${x(s.pairs[s.pairs.length - 1])}); ` +
    `${a} ${rates(s.a)} req/s, ${b} ${rates(s.b)} req/s`
  );
}

/** For a benchmark's JSON. */
export const slicedData = (s: Sliced) => ({ pooled: round(s.pooled, 3), median: round(s.median, 3), pairs: s.pairs.map((p) => round(p, 3)), a: s.a, b: s.b });

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
