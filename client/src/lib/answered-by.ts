// What answered a request, in words: one wording for the bin page's capture ("by …") and the
// retry lab's attempts, so a step "at random" reads the same in both. When its chance missed,
// the default response answered, not the step.
import type { AnswerOutcome, ForwardRecord, PlanUse } from '../../../shared/api.ts';

/** A capture's answer, or an attempt's planUse (whose roll may be absent: older records). */
type Answered = Pick<AnswerOutcome, 'source' | 'index'> & Pick<PlanUse, 'roll'>;

export function answeredBy({ source, index, roll }: Answered): string {
  const step = `plan step ${(index ?? 0) + 1}`;
  const pct = roll ? `${Math.round(roll.p * 1000) / 10}%` : '';
  switch (source) {
    case 'default':
      return 'default response';
    case 'step':
      if (!roll) return step;
      return roll.hit ? `${step} (its ${pct} chance hit)` : `default response (${step}: its ${pct} chance missed)`;
    case 'rule':
      return `rule ${(index ?? 0) + 1}`;
    case 'preflight':
      return 'hooklab, as a CORS preflight (no plan step used)';
    case 'proxy':
      return 'the first forward target (proxy mode)';
    case 'rate-limit':
      return 'rate limit';
    case 'store':
      return 'hooklab: the store could not confirm it in time (503: Redis did not answer, or the disk refused the write; the sender was told to retry, and a retry is a capture of its own)';
  }
}

/**
 * Proxy mode: why hooklab answered the sender itself when the first target's answer was cut off
 * after its head (a reset, the timeout; the sender got 502 or 504), from the capture's latest
 * proxy record; null otherwise. Its status alone would read as the target's clean answer.
 */
export function proxyCutOff(forwards: readonly ForwardRecord[]): string | null {
  let rec: ForwardRecord | undefined;
  for (const f of forwards) if (f.kind === 'proxy') rec = f;
  if (!rec || rec.status === null || rec.error === null || rec.error === 'loop') return null;
  return `hooklab: the first forward target's answer (${rec.status}) was cut off${rec.errorDetail ? ` (${rec.errorDetail})` : ''}, so the sender was not given it (proxy mode)`;
}
