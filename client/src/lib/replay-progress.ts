// What the bin tools say about a bulk replay as it runs and when it ends (every state of
// ReplayJob, including one stopped by an error or by its instance going away).
import type { ReplayJob } from '../../../shared/api.ts';

export function replayProgressText(job: Pick<ReplayJob, 'state' | 'done' | 'total' | 'failed' | 'error'>): string {
  const failed = job.failed ? `, ${job.failed} failed` : '';
  switch (job.state) {
    case 'running':
      return `Replaying ${job.done} of ${job.total}${failed}…`;
    case 'finished':
      return `Replayed ${job.done} of ${job.total}${failed} — done. Each request’s Forwards section has its answer.`;
    case 'failed':
      return `Replayed ${job.done} of ${job.total}${failed} — stopped: ${job.error ?? 'an error ended it'}. Replay the rest again to finish.`;
    case 'cancelled':
      return `Replayed ${job.done} of ${job.total}${failed} — cancelled.`;
  }
}
