// What the bin tools say about a bulk replay as it runs and when it ends (every state of
// ReplayJob, including one stopped by an error or by its instance going away). The job counts
// sends that got no answer (refused, timed out; or the capture was gone) as `failed`; it does
// not report the statuses of the answers, so a 500 counts as answered: the wording says so
// rather than calling such a run "done", and points to each request's Forwards for the status.
import type { ReplayJob } from '../../../shared/api.ts';

type JobCounts = Pick<ReplayJob, 'state' | 'done' | 'total' | 'failed' | 'error'>;

/** "2 answered, 1 got no answer" / "all 3 answered": of the sends made so far. */
function answeredText(job: JobCounts): string {
  const answered = job.done - job.failed;
  if (!job.failed) return job.done === 1 ? 'it was answered' : `all ${job.done} were answered`;
  return `${answered} answered, ${job.failed} got no answer (or ${job.failed === 1 ? 'was' : 'were'} no longer stored)`;
}

const STATUSES = 'Answered means any status, 4xx and 5xx too: each request’s Forwards section shows the one it got.';

export function replayProgressText(job: JobCounts): string {
  const failed = job.failed ? `, ${job.failed} with no answer` : '';
  switch (job.state) {
    case 'running':
      return `Replaying ${job.done} of ${job.total}${failed}…`;
    case 'finished':
      if (job.total === 0) return 'Nothing to replay: there were no captures to send.';
      return `Replayed ${job.done} of ${job.total} — finished: ${answeredText(job)}. ${STATUSES}`;
    case 'failed':
      return `Replayed ${job.done} of ${job.total}${failed} — stopped: ${job.error ?? 'an error ended it'}. Replay the rest again to finish.`;
    case 'cancelled':
      return `Replayed ${job.done} of ${job.total}${failed} — cancelled.`;
  }
}
