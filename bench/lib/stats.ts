// Percentiles and small numeric helpers.

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when empty. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

export function mean(samples: number[]): number {
  if (samples.length === 0) return NaN;
  let t = 0;
  for (const x of samples) t += x;
  return t / samples.length;
}

export function median(samples: number[]): number {
  return percentile(samples, 50);
}

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(samples: number[]): Summary {
  return {
    n: samples.length,
    mean: mean(samples),
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: samples.length ? Math.max(...samples) : NaN,
  };
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export const ratio = (x: number, base: number) => (base > 0 ? x / base : NaN);
