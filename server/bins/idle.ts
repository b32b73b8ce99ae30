// Which bins have gone idle (BIN_IDLE_DAYS): pure, so the rule is tested without waiting days.
// A bin is active when it was created, last sent to or emptied; opening it in the UI does not count
// (a dashboard left open on a dead URL would otherwise keep it forever).

export interface BinActivity {
  id: string;
  createdAt: string;
  /** Its newest capture still stored, or null. */
  lastRequestAt: string | null;
  /** Other activity that left no capture (its requests cleared). */
  activeAt?: string;
}

const at = (s: string | null | undefined) => (s ? Date.parse(s) : -Infinity);

/** When a bin goes idle unless something happens to it first (NaN when a date is unreadable). */
export function idleDeadline(b: BinActivity, idleMs: number): number {
  return Math.max(Date.parse(b.createdAt), at(b.lastRequestAt), at(b.activeAt)) + idleMs;
}

/** The bins neither created, sent to nor emptied within `idleMs` before `now`. */
export function idleBins(bins: readonly BinActivity[], now: number, idleMs: number): string[] {
  const out: string[] = [];
  for (const b of bins) {
    // An unreadable date (NaN) is never a reason to delete.
    if (now > idleDeadline(b, idleMs)) out.push(b.id);
  }
  return out;
}

/** How often to look: a tenth of the idle time (a bin goes at most 10 % late), between 1 s and 1 h. */
export function sweepEveryMs(idleMs: number): number {
  return Math.min(3_600_000, Math.max(1000, Math.round(idleMs / 10)));
}
