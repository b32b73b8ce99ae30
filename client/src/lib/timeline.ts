// The delivery timeline's geometry, pure: a log scale from 0 to the deadline so that seconds
// and hours both read, the ticks, and which marks a delivery gets.
import type { Attempt, Delivery } from '../../../shared/api.ts';
import { formatDuration } from './format.ts';

const SECOND = 1000;

/** Position 0..1 of `t` ms after the event on a scale that ends at `deadlineMs`. */
export function timeToFraction(t: number, deadlineMs: number): number {
  if (!(deadlineMs > 0)) return 0;
  const f = Math.log10(1 + Math.max(0, t) / SECOND) / Math.log10(1 + deadlineMs / SECOND);
  return Math.min(1, Math.max(0, f));
}

export interface Tick {
  t: number;
  label: string;
  major: boolean;
}

const CANDIDATES: Tick[] = [
  { t: 0, label: '0', major: true },
  { t: 1_000, label: '1 s', major: true },
  { t: 10_000, label: '10 s', major: false },
  { t: 60_000, label: '1 min', major: true },
  { t: 600_000, label: '10 min', major: false },
  { t: 3_600_000, label: '1 h', major: true },
  { t: 6 * 3_600_000, label: '6 h', major: false },
  { t: 86_400_000, label: '24 h', major: true },
  { t: 7 * 86_400_000, label: '7 d', major: true },
];

/** Ticks up to the deadline; the deadline itself is drawn separately. */
export function ticks(deadlineMs: number): Tick[] {
  const out = CANDIDATES.filter((c) => c.t < deadlineMs * 0.999);
  return out;
}

export type MarkTone = 'ok' | 'warn' | 'bad';

/** Green for a success, amber for any other status, red for a timeout or error (no status). */
export function attemptTone(a: Pick<Attempt, 'ok' | 'status' | 'error'>): MarkTone {
  if (a.ok) return 'ok';
  if (a.status !== null) return 'warn';
  return 'bad';
}

export function attemptLabel(a: Attempt, createdAt: string): string {
  const t = Date.parse(a.sentAt) - Date.parse(createdAt);
  const what = a.ok ? `${a.status} (delivered)` : a.status !== null ? `${a.status}${a.error ? ` (${a.error})` : ''}` : (a.error ?? 'error');
  return `Attempt ${a.n}${a.manual ? ' (manual)' : ''}: ${what} at +${formatDuration(t)}`;
}

export interface AttemptMark {
  n: number;
  t: number;
  tone: MarkTone;
  attempt: Attempt;
}

export interface PlannedMark {
  /** 1-based index in the planned schedule. */
  index: number;
  t: number;
}

export interface DeliveryMarks {
  deadlineMs: number;
  attempts: AttemptMark[];
  /** Planned attempts not made yet (only while pending). */
  planned: PlannedMark[];
}

export function deliveryMarks(d: Delivery): DeliveryMarks {
  const created = Date.parse(d.createdAt);
  const attempts = d.attempts.map((a) => ({ n: a.n, t: Date.parse(a.sentAt) - created, tone: attemptTone(a), attempt: a }));
  let planned: PlannedMark[] = [];
  if (d.state === 'pending' && d.nextAttemptAt) {
    const next = Date.parse(d.nextAttemptAt);
    planned = d.plannedAt
      .map((p, i) => ({ index: i + 1, at: Date.parse(p) }))
      .filter((p) => p.at >= next)
      .map((p) => ({ index: p.index, t: p.at - created }));
  }
  return { deadlineMs: d.schedule.deadlineMs, attempts, planned };
}
