// The schedule preview: pure. Plays one delivery whose every attempt fails (as a 503 with
// Retry-After when asked to) through the same policy the dispatcher uses (decideNext,
// disableVerdict), so the preview shows what a delivery will really do, and why.
import type { Behaviors, Delivery, HeaderPair, ScheduleSettings, SchedulePreview } from '../../shared/api.ts';
import { iso } from '../time.ts';
import { decideNext } from './attempt-outcome.ts';
import { MAX_ATTEMPTS, planAttempts } from './schedule.ts';
import { cutNote } from './schedule-limit.ts';
import { disableVerdict, streakAfterAttempt } from './webhook-health.ts';
import { count, duration } from './words.ts';

export interface PreviewOptions {
  /** Assume each failed attempt answers 503 with `Retry-After: <seconds>`. */
  retryAfterS?: number;
  /** MAX_SCHEDULE_ATTEMPTS (default 200): the plan is cut there, as a delivery's is, and a note says so. */
  maxAttempts?: number;
}

export function previewSchedule(settings: ScheduleSettings, seed: number, behaviors: Behaviors, opts: PreviewOptions = {}): SchedulePreview {
  const max = opts.maxAttempts ?? MAX_ATTEMPTS;
  const offsets = planAttempts(settings, seed, max);
  const status = opts.retryAfterS !== undefined ? 503 : 500;
  const headers: HeaderPair[] = opts.retryAfterS !== undefined ? [['Retry-After', String(opts.retryAfterS)]] : [];
  let del: Delivery = {
    id: 'preview',
    webhookId: 'preview',
    webhookName: 'preview',
    url: 'http://preview.invalid/',
    runId: null,
    event: 'sync_end',
    payload: { created: iso(0), destination_id: 0, destination_type: '', event: 'sync_end', flow_id: 0, run_attempt_id: 0, source_id: 0, source_type: '' },
    webhookMessageId: 'preview',
    state: 'pending',
    createdAt: iso(0),
    nextAttemptAt: iso(0),
    nextReason: 'first',
    nextReasonDetail: 'at the event',
    plannedAt: offsets.map(iso),
    schedule: settings,
    seed,
    attempts: [],
    endReason: null,
    binId: null,
  };
  const attempts: SchedulePreview['attempts'] = [];
  let streak = null;
  let endsBy: SchedulePreview['endsBy'] = 'deadline';
  while (del.state === 'pending' && del.nextAttemptAt !== null && attempts.length < max) {
    const at = Date.parse(del.nextAttemptAt);
    const n = attempts.length + 1;
    attempts.push({ n, offsetMs: at, delayMs: n === 1 ? 0 : at - attempts[n - 2].offsetMs, reason: del.nextReason ?? 'schedule', detail: del.nextReasonDetail ?? null });
    streak = streakAfterAttempt(streak, false, at);
    if (disableVerdict(streak, { disableAfterDays: behaviors.disableAfterDays }, at)) {
      endsBy = 'disabled';
      break;
    }
    // A real clock for Retry-After dates is not needed: the preview only uses seconds.
    const step = decideNext(del, { kind: 'scheduled', n, sentAt: at, ok: false, status, headers }, behaviors, 0);
    const attempt = { n, plannedAt: del.nextAttemptAt, sentAt: del.nextAttemptAt, manual: false } as Delivery['attempts'][number];
    del = {
      ...del,
      attempts: [...del.attempts, attempt],
      state: step.state,
      nextAttemptAt: step.nextAttemptAt === null ? null : iso(step.nextAttemptAt),
      plannedAt: step.plannedAt.map(iso),
      nextReason: step.nextReason,
      nextReasonDetail: step.nextReasonDetail,
    };
  }
  const cut = cutNote(settings, max);
  return { settings, seed, behaviors, attempts, endsBy, notes: [...(cut ? [cut] : []), ...notes(behaviors, attempts, opts)] };
}

function notes(b: Behaviors, attempts: SchedulePreview['attempts'], opts: PreviewOptions): string[] {
  const out: string[] = [];
  const span = attempts.length ? attempts[attempts.length - 1].offsetMs : 0;
  if (b.retryAfter) {
    out.push(
      opts.retryAfterS !== undefined
        ? `Retry-After honoured: every attempt is assumed to get 503 with Retry-After: ${opts.retryAfterS} (the next wait stays between the planned one and twice it).`
        : 'Retry-After honoured on 429 and 503: the next wait becomes the asked one, kept between the planned wait and twice it; later attempts move with it, never past the deadline.',
    );
  } else if (opts.retryAfterS !== undefined) {
    out.push('Retry-After is not honoured (behaviors.retryAfter is off): the schedule stands.');
  }
  if (b.disableOn410) out.push('A 410 Gone ends the delivery and disables the webhook, cancelling its other pending deliveries.');
  if (b.abortHeader) out.push(`An answer carrying the header ${b.abortHeader} ends the delivery: no more retries.`);
  if (b.disableAfterDays) {
    const d = b.disableAfterDays * 86_400_000;
    out.push(
      d <= span
        ? `Disabled after ${duration(d)} of unbroken failure: the webhook is turned off at the first failed attempt at or past it.`
        : `Disabled after ${duration(d)} of unbroken failure: longer than this schedule (${duration(span)}), so it takes failures across several deliveries.`,
    );
  }
  if (b.disableAfterDeliveries) out.push(`Disabled after ${count(b.disableAfterDeliveries, 'delivery', 'deliveries')} in a row ${b.disableAfterDeliveries === 1 ? 'ends' : 'end'} undelivered.`);
  return out;
}
