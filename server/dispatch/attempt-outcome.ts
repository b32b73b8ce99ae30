// What an attempt's answer means for its delivery: pure. Given the delivery before the attempt,
// the answer, the webhook's behaviours and the wall clock (for a Retry-After date), it says
// whether the delivery is done and why, or when the next attempt goes and why then.
import type { AttemptReason, Behaviors, Delivery, DeliveryState, HeaderPair } from '../../shared/api.ts';
import { endsOnDeadline, moveForRetryAfter, parseRetryAfter } from './schedule.ts';
import { duration } from './words.ts';

export type AttemptKind = 'scheduled' | 'manual' | 'test';

export interface AnswerFacts {
  kind: AttemptKind;
  /** Attempt number being recorded. */
  n: number;
  /** Virtual instant it was sent. */
  sentAt: number;
  ok: boolean;
  status: number | null;
  headers: readonly HeaderPair[];
}

export interface NextStep {
  state: DeliveryState;
  nextAttemptAt: number | null;
  /** The whole plan (absolute ms), moved when Retry-After asked for it (else the plan given). */
  plannedAt: readonly number[];
  nextReason: AttemptReason | null;
  nextReasonDetail: string | null;
  endReason: string | null;
  endDetail: string | null;
  /** The answer was 410 and the webhook disables on it. */
  gone: boolean;
}

function header(headers: readonly HeaderPair[], name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === want) return v;
  return undefined;
}

/** Why the attempt planned at index i goes then, in words. */
export function plannedReason(d: Pick<Delivery, 'schedule' | 'createdAt'>, plan: readonly number[], i: number): { reason: AttemptReason; detail: string } {
  if (i === 0) return { reason: 'first', detail: 'at the event' };
  if (i === plan.length - 1 && endsOnDeadline(d.schedule) && plan[i] === Date.parse(d.createdAt) + d.schedule.deadlineMs) {
    return { reason: 'deadline', detail: `the last attempt, on the ${duration(d.schedule.deadlineMs)} deadline` };
  }
  return { reason: 'schedule', detail: `retry ${i}: waits ${duration(plan[i] - plan[i - 1])} as planned` };
}

/**
 * The first planned instant after `after`, at or past index `from` (attempts planned so far).
 * After a Retry-After the tail of the plan moved, but the indexes before it did not.
 */
function nextIndex(plan: readonly number[], from: number, after: number): number {
  for (let i = from; i < plan.length; i++) if (plan[i] > after) return i;
  return -1;
}

/** `plan`: the delivery's plannedAt in ms, when the caller has it already (the dispatcher keeps it per plan). */
export function decideNext(del: Delivery, a: AnswerFacts, behaviors: Behaviors, realNow: number, plan: readonly number[] = del.plannedAt.map(Date.parse)): NextStep {
  const keep: NextStep = {
    state: del.state,
    nextAttemptAt: del.nextAttemptAt === null ? null : Date.parse(del.nextAttemptAt),
    plannedAt: plan,
    nextReason: del.nextReason ?? null,
    nextReasonDetail: del.nextReasonDetail ?? null,
    endReason: del.endReason,
    endDetail: del.endDetail ?? null,
    gone: false,
  };
  const end = (state: DeliveryState, endReason: string, endDetail: string): NextStep => ({
    ...keep,
    state,
    nextAttemptAt: null,
    nextReason: null,
    nextReasonDetail: null,
    endReason,
    endDetail,
  });
  const pending = del.state === 'pending';

  if (a.ok) return end('delivered', 'delivered', `attempt ${a.n} answered ${a.status}`);
  // Test events only report: they never change the webhook or a schedule.
  if (a.kind === 'test') return end('failed', 'test_failed', `the test attempt got ${a.status ?? 'no answer'}`);

  if (behaviors.disableOn410 && a.status === 410) {
    const detail = `attempt ${a.n} got 410 Gone: the webhook is disabled (disableOn410)`;
    return { ...(pending ? end('failed', 'gone', detail) : keep), gone: true };
  }
  const abortName = behaviors.abortHeader;
  const abortValue = abortName ? header(a.headers, abortName) : undefined;
  if (pending && abortValue !== undefined) return end('failed', 'aborted', `attempt ${a.n} answered with ${abortName}: ${abortValue} (abortHeader): no more retries`);

  // A manual attempt is outside the schedule: the plan stands.
  if (a.kind !== 'scheduled' || !pending) return keep;

  let scheduledSoFar = 1;
  for (const x of del.attempts) if (!x.manual) scheduledSoFar++;
  // After the instant this attempt was planned for, not the one it went at: an attempt sent
  // late (the lateness is recorded) must not make the schedule skip the next one.
  const plannedFor = del.nextAttemptAt === null ? a.sentAt : Date.parse(del.nextAttemptAt);
  const i = nextIndex(plan, scheduledSoFar, plannedFor);
  if (i === -1) return end('failed', 'deadline', `the last planned attempt (${a.n}) failed`);

  const why = plannedReason(del, plan, i);
  const asked = behaviors.retryAfter && (a.status === 429 || a.status === 503) ? parseRetryAfter(header(a.headers, 'retry-after'), realNow) : null;
  if (asked === null) return { ...keep, nextAttemptAt: plan[i], nextReason: why.reason, nextReasonDetail: why.detail };

  const deadlineAt = Date.parse(del.createdAt) + del.schedule.deadlineMs;
  const moved = moveForRetryAfter(plan.slice(i), a.sentAt, asked, deadlineAt, endsOnDeadline(del.schedule));
  const asks = `${a.status} asked to retry after ${duration(asked)}`;
  if (moved.usedMs === moved.scheduledMs) {
    return { ...keep, nextAttemptAt: plan[i], nextReason: why.reason, nextReasonDetail: `${why.detail}; ${asks}, less than the planned wait, so the plan stands` };
  }
  const plannedAt = [...plan.slice(0, i), ...moved.plan];
  if (moved.plan.length === 0) return { ...end('failed', 'deadline', `${asks}: that is past the deadline`), plannedAt };
  const capped = asked > moved.usedMs ? ` (at most twice the planned ${duration(moved.scheduledMs)})` : ` instead of the planned ${duration(moved.scheduledMs)}`;
  const next = moved.plan[0];
  const onDeadline = endsOnDeadline(del.schedule) && next === deadlineAt && moved.plan.length === 1;
  return {
    ...keep,
    plannedAt,
    nextAttemptAt: next,
    nextReason: onDeadline ? 'deadline' : 'retry-after',
    nextReasonDetail: onDeadline
      ? `${asks}: the rest of the plan moved past the deadline, so the last attempt stays on it`
      : `${asks}: waits ${duration(moved.usedMs)}${capped}; later attempts move with it`,
  };
}
