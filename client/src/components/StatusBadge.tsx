import type { AnswerOutcome } from '../../../shared/api.ts';
import { proxyWait, statusTone } from '../lib/format.ts';
import { notSentBadge } from '../lib/not-sent.ts';

/**
 * The status a bin answered, the fault that answered instead, or (proxy mode) that the first
 * target has not answered yet: neutral, not "no answer", which reads as a failure. `long`: the
 * detail's wording, where there is room.
 */
export function StatusBadge({ status, answer, receivedAt, long }: { status: number | null; answer?: AnswerOutcome; receivedAt?: string; long?: boolean }) {
  const wait = status === null && answer && receivedAt ? proxyWait(answer, receivedAt) : null;
  if (wait === 'lost') {
    return (
      <span class="badge tone-bad" title="hooklab stopped before the first forward target answered: no answer was recorded (proxy mode)" data-testid="answer-lost">
        {long ? 'no answer recorded' : 'no answer'}
      </span>
    );
  }
  if (wait === 'waiting') {
    return (
      <span class="badge tone-muted" title="Waiting for the first forward target's answer (proxy mode)" data-testid="answer-pending">
        {long ? 'waiting for the target…' : 'waiting…'}
      </span>
    );
  }
  if (status === null) {
    const fault = answer?.fault;
    return <span class="badge tone-bad" title={fault === 'timeout' ? 'Held open, never answered' : 'Connection reset, no answer'}>{fault ?? 'no answer'}</span>;
  }
  // Planned, never sent: the sender hung up first (a slow answer past its timeout), or hooklab
  // closed the connection for an earlier pipelined request's fault.
  if (answer?.hungUpAfterMs !== undefined) {
    const words = notSentBadge(answer);
    return (
      <span class="badge tone-muted not-sent" title={words.title} data-testid="status-not-sent">
        {status}
        <span class="sr-only">{words.sr}</span>
      </span>
    );
  }
  return <span class={`badge tone-${statusTone(status)}`}>{status}</span>;
}

export function MethodBadge({ method }: { method: string }) {
  return <span class={`method method-${method.toLowerCase()}`}>{method}</span>;
}
