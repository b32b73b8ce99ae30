// What the bin tools say about a bulk replay as it runs and when it ends (every state of
// ReplayJob, including one stopped by an error or by its instance going away). The job counts
// each capture once: `missing` (not stored when its turn came: nothing sent), else `failed` (a
// send got no answer: refused, timed out; or was not made), else `non2xx` (every send answered,
// one outside 2xx), else answered 2xx. A job from before `missing` was counted has the gone
// ones in `failed`; one from before `non2xx` cannot tell a 500 from a 200: its wording says so
// rather than calling the run "done", and points to each request's Forwards for the status.
import type { ReplayJob } from '../../../shared/api.ts';

type JobCounts = Pick<ReplayJob, 'state' | 'done' | 'total' | 'failed' | 'error' | 'non2xx' | 'missing'>;

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

/** "all 3 answered 2xx" / "1 answered 2xx, 1 answered outside 2xx, 1 got no answer": of the sends made so far. */
function answeredText(job: JobCounts): string {
  const noAnswer = !job.failed ? '' : job.missing === undefined ? `${job.failed} got no answer (or ${plural(job.failed, 'was', 'were')} no longer stored)` : `${job.failed} got no answer or ${plural(job.failed, 'was', 'were')} not sent`;
  const missing = job.missing ? missingText(job.missing) : '';
  const gone = job.missing ?? 0;
  if (job.non2xx === undefined) {
    const answered = job.done - job.failed - gone;
    if (!job.failed && !gone) return `${job.done === 1 ? 'it was answered' : `all ${job.done} were answered`}. ${STATUSES}`;
    return `${[`${answered} answered`, noAnswer, missing].filter(Boolean).join(', ')}. ${STATUSES}`;
  }
  const ok = job.done - job.failed - job.non2xx - gone;
  if (ok === job.done) return job.done === 1 ? 'it was answered 2xx.' : `all ${job.done} were answered 2xx.`;
  const parts = [ok ? `${ok} answered 2xx` : '', job.non2xx ? `${job.non2xx} answered outside 2xx` : '', noAnswer, missing].filter(Boolean);
  return `${parts.join(', ')}. Each request's Forwards section shows what it got.`;
}

const missingText = (n: number) => `${n} ${plural(n, 'was', 'were')} no longer stored (nothing sent)`;

const STATUSES = 'Answered means any status, 4xx and 5xx too: each request’s Forwards section shows the one it got.';

export function replayProgressText(job: JobCounts): string {
  const failed = (job.non2xx ? `, ${job.non2xx} answered outside 2xx` : '') + (job.failed ? `, ${job.failed} with no answer` : '') + (job.missing ? `, ${job.missing} no longer stored` : '');
  switch (job.state) {
    case 'running':
      return `Replaying ${job.done} of ${job.total}${failed}…`;
    case 'finished':
      if (job.total === 0) return 'Nothing to replay: there were no captures to send.';
      return `Replayed ${job.done} of ${job.total} — finished: ${answeredText(job)}`;
    case 'failed':
      return `Replayed ${job.done} of ${job.total}${failed} — stopped: ${job.error ?? 'an error ended it'}. Replay the rest again to finish.`;
    case 'cancelled':
      return `Replayed ${job.done} of ${job.total}${failed} — cancelled.`;
  }
}
