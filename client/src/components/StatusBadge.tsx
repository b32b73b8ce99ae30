import type { AnswerOutcome } from '../../../shared/api.ts';
import { awaitingTarget, statusTone } from '../lib/format.ts';

/**
 * The status a bin answered, the fault that answered instead, or (proxy mode) that the first
 * target has not answered yet: neutral, not "no answer", which reads as a failure. `long`: the
 * detail's wording, where there is room.
 */
export function StatusBadge({ status, answer, long }: { status: number | null; answer?: AnswerOutcome; long?: boolean }) {
  if (status === null && answer && awaitingTarget(answer)) {
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
  return <span class={`badge tone-${statusTone(status)}`}>{status}</span>;
}

export function MethodBadge({ method }: { method: string }) {
  return <span class={`method method-${method.toLowerCase()}`}>{method}</span>;
}
