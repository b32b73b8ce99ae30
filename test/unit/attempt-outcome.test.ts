// decideNext (pure): an attempt sent late must not make the schedule skip the next one.
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../shared/api.ts';
import { decideNext } from '../../server/dispatch/attempt-outcome.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const PLAN = [0, 4_000, 20_000, 86_400_000].map((o) => T0 + o);

function pending(attemptsSoFar: number): Delivery {
  return {
    id: 'dl_1',
    state: 'pending',
    createdAt: iso(T0),
    nextAttemptAt: iso(PLAN[attemptsSoFar]),
    plannedAt: PLAN.map(iso),
    schedule: { firstDelayMs: 4_000, factor: 5, jitter: 0, deadlineMs: 86_400_000 },
    attempts: Array.from({ length: attemptsSoFar }, (_, i) => ({ n: i + 1, manual: false })),
  } as unknown as Delivery;
}

const failed = (n: number, sentAt: number) => ({ kind: 'scheduled' as const, n, sentAt, ok: false, status: 500, headers: [] });

describe('decideNext', () => {
  it('attempt 1 sent after attempt 2 was planned: attempt 2 is still next (due at once), not attempt 3', () => {
    const step = decideNext(pending(0), failed(1, T0 + 5_000), {}, T0);
    expect(step.state).toBe('pending');
    expect(step.nextAttemptAt).toBe(PLAN[1]);
  });

  it('the last attempt on the deadline is kept however late the one before went', () => {
    const step = decideNext(pending(2), failed(3, T0 + 50_000_000), {}, T0);
    expect(step.nextAttemptAt).toBe(PLAN[3]);
    expect(step.nextReason).toBe('deadline');
    // And after it: the end.
    expect(decideNext(pending(3), failed(4, PLAN[3]), {}, T0)).toMatchObject({ state: 'failed', endReason: 'deadline' });
  });
});
