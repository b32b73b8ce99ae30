// Proxy mode: a capture whose first target has not answered yet is waiting, not a failure.
import { describe, expect, it } from 'vitest';
import type { AnswerOutcome } from '../../shared/api.ts';
import { awaitingTarget, PROXY_ANSWER_LOST_MS, proxyWait } from '../../client/src/lib/format.ts';

// As the receiver stores it while the target works (PROXY_PENDING), and once it has answered.
const pending: AnswerOutcome = { status: null, delayMs: 0, fault: null, source: 'proxy', index: null, roll: null };

describe('awaitingTarget', () => {
  it('is the proxy answer without a status, and nothing else', () => {
    expect(awaitingTarget(pending)).toBe(true);
    expect(awaitingTarget({ ...pending, status: 201 })).toBe(false);
    // A target that failed answers the sender 502/504: a status, so not waiting.
    expect(awaitingTarget({ ...pending, status: 504 })).toBe(false);
    // The bin's own faults (a hang, a reset) have no status either: those are failures.
    expect(awaitingTarget({ ...pending, source: 'step', fault: 'timeout' })).toBe(false);
    expect(awaitingTarget({ ...pending, source: 'default', fault: 'reset' })).toBe(false);
  });
});

describe('proxyWait', () => {
  const at = '2026-12-03T10:00:00.000Z';
  const t0 = Date.parse(at);
  it('waiting while the answer can still come, lost once no timeout allows it (hooklab stopped first)', () => {
    expect(proxyWait(pending, at, t0 + 9_000)).toBe('waiting');
    // FORWARD_TIMEOUT_MS is at most 600 s: still waiting at its bound.
    expect(proxyWait(pending, at, t0 + 600_000)).toBe('waiting');
    expect(proxyWait(pending, at, t0 + PROXY_ANSWER_LOST_MS + 1)).toBe('lost');
    // Not a proxy wait at all: neither.
    expect(proxyWait({ ...pending, status: 201 }, at, t0 + PROXY_ANSWER_LOST_MS + 1)).toBeNull();
  });
});
