// The delivery timeline's geometry, pure: a log scale from 0 to the deadline so that seconds
// and hours both read, the ticks, and which marks a delivery gets.
import type { Attempt, AttemptReason, Delivery } from '../../../shared/api.ts';
import { plannedAttempts } from '../../../shared/planned-attempts.ts';
import { answeredBy } from './answered-by.ts';
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

/** Space kept between two axis labels: closer, "0" and "1 s" read as one on a phone. */
const LABEL_GAP_PX = 6;

/**
 * Which tick labels are drawn, given each tick's place and the deadline's (px, the deadline's
 * label ending at its line, "0" starting at its tick, the others centred). A "24 h" under a
 * "2 d 7 h" deadline printed one over the other: a label that would touch the deadline's, or
 * one already kept, is left out (its tick line stays). Major ticks first, left to right; the
 * first "0" last of them (the line's start says it); minor ones after.
 */
export function tickLabelsShown(tks: readonly Tick[], xs: readonly number[], deadlineX: number, deadlineText: string, charPx = CODE_CHAR_PX): boolean[] {
  const shown = tks.map(() => false);
  const kept: [number, number][] = [[deadlineX - deadlineText.length * charPx, deadlineX]];
  const span = (i: number): [number, number] => {
    const w = tks[i].label.length * charPx;
    return tks[i].t === 0 ? [xs[i], xs[i] + w] : [xs[i] - w / 2, xs[i] + w / 2];
  };
  const rank = (i: number) => (tks[i].major ? (tks[i].t === 0 ? 1 : 0) : 2);
  const order = tks.map((_, i) => i).sort((a, b) => rank(a) - rank(b) || xs[a] - xs[b]);
  for (const i of order) {
    const [l, r] = span(i);
    if (kept.every(([kl, kr]) => r + LABEL_GAP_PX <= kl || l >= kr + LABEL_GAP_PX)) {
      shown[i] = true;
      kept.push([l, r]);
    }
  }
  return shown;
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

/** The few characters a mark shows: the status code, or what went wrong. */
export function markText(a: Pick<Attempt, 'status' | 'error'>): string {
  if (a.status !== null) return String(a.status);
  return ERROR_SHORT[a.error ?? 'error'] ?? 'err';
}

const ERROR_SHORT: Record<string, string> = { timeout: 'T/O', reset: 'RST', refused: 'REF', dns: 'DNS', blocked: 'BLK', redirect: '3xx', error: 'ERR' };

export const REASON_LABEL: Record<AttemptReason, string> = {
  first: 'at the event',
  schedule: 'schedule',
  'retry-after': 'Retry-After',
  deadline: 'deadline',
  restart: 'after a restart or failover',
  manual: 'manual',
  test: 'test',
};

/** Why a delivery ended, in words. */
export const END_LABEL: Record<string, string> = {
  delivered: 'delivered',
  // Its detail says which: the last planned attempt failed, or an answer asked for a retry past the deadline.
  deadline: 'failed: no retry left before the deadline',
  gone: 'failed: 410 Gone (the webhook was disabled)',
  aborted: 'failed: the receiver asked to stop retrying',
  disabled: 'cancelled: hooklab disabled the webhook',
  test_failed: 'test failed',
  webhook_disabled: 'cancelled: the webhook was disabled',
  webhook_deleted: 'cancelled: the webhook was deleted',
};

export interface AttemptRow {
  n: number;
  reason: string;
  reasonDetail: string | null;
  plannedT: number;
  sentT: number;
  /** Sent minus planned (virtual ms). */
  lateMs: number;
  result: string;
  tone: MarkTone;
  durationMs: number;
  capturedRequestId: string | null;
  planNote: string | null;
}

/** The attempt table under a timeline: times relative to the event, in virtual time. */
export function attemptRows(d: Delivery): AttemptRow[] {
  const created = Date.parse(d.createdAt);
  return d.attempts.map((a) => ({
    n: a.n,
    reason: a.reason ? REASON_LABEL[a.reason] : a.manual ? 'manual' : '—',
    reasonDetail: a.reasonDetail ?? null,
    plannedT: Date.parse(a.plannedAt) - created,
    sentT: Date.parse(a.sentAt) - created,
    lateMs: Date.parse(a.sentAt) - Date.parse(a.plannedAt),
    result: a.status !== null ? `${a.status}${a.ok ? ' ✓' : ''}${a.error ? ` (${a.error})` : ''}` : (a.error ?? 'error'),
    tone: attemptTone(a),
    durationMs: a.durationMs,
    capturedRequestId: a.capturedRequestId,
    planNote: planNote(a),
  }));
}

/**
 * "plan step 2; plan steps used just before by test · attempt 1" (when the bin's plan
 * answered), worded as the bin page words a capture's answer (answered-by.ts).
 */
export function planNote(a: Attempt): string | null {
  const u = a.planUse;
  if (!u) return null;
  const by = answeredBy(u);
  if (u.othersCount === 0) return by;
  const names = u.others.map((o) => o.label).join(', ');
  const more = u.othersCount > u.others.length ? ` and ${u.othersCount - u.others.length} more` : '';
  return `${by}; plan steps used just before by ${names}${more}`;
}

export interface AttemptMark {
  n: number;
  t: number;
  tone: MarkTone;
  attempt: Attempt;
  /** Made after the deadline (a manual retry of an ended delivery): drawn past the scale. */
  past?: boolean;
}

/**
 * Share of the axis each attempt made after the deadline gets, right of the deadline line,
 * and the most they get together. On a log scale a retry minutes after a 24 h deadline is a
 * pixel away from it: placed in order instead, each gets room for its mark and code (8% is
 * ~25 px on a phone).
 */
const PAST_EACH = 0.08;
const PAST_MAX = 0.3;

export interface TimelineLayout {
  /** Where the deadline line is: 1 unless attempts were made after it. */
  deadlineF: number;
  /** Position 0..deadlineF of a time up to the deadline. */
  f: (t: number) => number;
  /** Position of each attempt mark, in the order given. */
  marks: number[];
}

export function timelineLayout(deadlineMs: number, attempts: readonly Pick<AttemptMark, 't' | 'past'>[]): TimelineLayout {
  const past = attempts.filter((a) => a.past).length;
  const deadlineF = 1 - Math.min(PAST_MAX, PAST_EACH * past);
  const f = (t: number) => timeToFraction(t, deadlineMs) * deadlineF;
  let k = 0;
  const marks = attempts.map((a) => (a.past ? deadlineF + ((1 - deadlineF) * ++k) / past : f(a.t)));
  return { deadlineF, f, marks };
}

export interface PlannedMark {
  /** The attempt number it will carry (plannedAttempts: on from the attempts made, as the export says). */
  n: number;
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
  const deadline = d.schedule.deadlineMs;
  // By when it was planned: a scheduled attempt sent a little late (a busy dispatcher at a
  // high clock speed) is still the deadline attempt, drawn on the deadline.
  const attempts = d.attempts.map((a) => ({ n: a.n, t: Date.parse(a.sentAt) - created, tone: attemptTone(a), attempt: a, past: Date.parse(a.plannedAt) - created > deadline }));
  const planned = plannedAttempts(d).map((p) => ({ n: p.n, t: p.at - created }));
  return { deadlineMs: d.schedule.deadlineMs, attempts, planned };
}

/** About how wide a mark's code or an axis label is drawn (11px sans, see .timeline text), per character. */
export const CODE_CHAR_PX = 7;
/** Space kept between two codes. */
const CODE_GAP_PX = 3;

/**
 * Which marks get their code drawn above them, given each mark's centre (px) and its code.
 * A hundred attempts a minute apart drew their "500"s on top of each other into a black band:
 * a code that would overlap one already kept is skipped (the mark and its title stay). The
 * first and last attempt always keep theirs; the others are taken right to left, so the
 * latest ones (how it ended, the deadline attempt) are the ones kept.
 */
export function codesShown(xs: readonly number[], texts: readonly string[], charPx = CODE_CHAR_PX, gapPx = CODE_GAP_PX): boolean[] {
  const n = xs.length;
  const shown = new Array<boolean>(n).fill(false);
  const kept: [number, number][] = [];
  const span = (i: number): [number, number] => {
    const half = (texts[i].length * charPx) / 2;
    return [xs[i] - half, xs[i] + half];
  };
  const keep = (i: number) => {
    shown[i] = true;
    kept.push(span(i));
  };
  if (n === 0) return shown;
  keep(0);
  if (n > 1) keep(n - 1);
  const order = Array.from({ length: n - 2 }, (_, k) => k + 1).sort((a, b) => xs[b] - xs[a]);
  for (const i of order) {
    const [l, r] = span(i);
    if (kept.every(([kl, kr]) => r + gapPx <= kl || l >= kr + gapPx)) keep(i);
  }
  return shown;
}

/** Marks closer than this (px) to another are drawn without their outline. */
export const DENSE_PX = 4;

/**
 * Which marks sit within `px` of another. Each dot's white outline paints over the one before:
 * 100 attempts 10 min apart, ~1 px apart from 6 h on, read as faint white arcs with no colour,
 * as if they never happened. Without outlines dense dots make one solid band in their colour.
 */
export function denseMarks(xs: readonly number[], px = DENSE_PX): boolean[] {
  const dense = xs.map(() => false);
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  for (let k = 1; k < order.length; k++) {
    if (xs[order[k]] - xs[order[k - 1]] < px) dense[order[k]] = dense[order[k - 1]] = true;
  }
  return dense;
}
