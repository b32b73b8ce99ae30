import type { AnswerOutcome } from '../../../shared/api.ts';
import { statusTone } from '../lib/format.ts';

/** The status a bin answered, or the fault that answered instead. */
export function StatusBadge({ status, fault }: { status: number | null; fault?: AnswerOutcome['fault'] }) {
  if (status === null) {
    return <span class="badge tone-bad" title={fault === 'timeout' ? 'Held open, never answered' : 'Connection reset, no answer'}>{fault ?? 'no answer'}</span>;
  }
  return <span class={`badge tone-${statusTone(status)}`}>{status}</span>;
}

export function MethodBadge({ method }: { method: string }) {
  return <span class={`method method-${method.toLowerCase()}`}>{method}</span>;
}
