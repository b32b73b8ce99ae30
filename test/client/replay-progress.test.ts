// The bulk replay's progress line, for each state a job can be in.
import { describe, expect, it } from 'vitest';
import { replayProgressText } from '../../client/src/lib/replay-progress.ts';

describe('replayProgressText', () => {
  const job = { done: 3, total: 10, failed: 0, error: null };
  it('says how far it is, and how many got no answer', () => {
    expect(replayProgressText({ ...job, state: 'running' })).toBe('Replaying 3 of 10…');
    expect(replayProgressText({ ...job, state: 'running', failed: 2 })).toBe('Replaying 3 of 10, 2 with no answer…');
  });
  it('does not call a finished run "done" as if every send succeeded: the job counts answers, not their statuses', () => {
    const all = replayProgressText({ ...job, done: 3, total: 3, state: 'finished' });
    expect(all).toMatch(/^Replayed 3 of 3 — finished: all 3 were answered\. Answered means any status, 4xx and 5xx too/);
    expect(all).not.toContain('done');
    expect(replayProgressText({ ...job, done: 3, total: 3, failed: 1, state: 'finished' })).toMatch(
      /^Replayed 3 of 3 — finished: 2 answered, 1 got no answer \(or was no longer stored\)\. Answered means any status/,
    );
    expect(replayProgressText({ ...job, done: 1, total: 1, state: 'finished' })).toMatch(/finished: it was answered\./);
    expect(replayProgressText({ ...job, done: 0, total: 0, state: 'finished' })).toBe('Nothing to replay: there were no captures to send.');
  });
  it('with statuses counted (non2xx): says how many answered outside 2xx, each capture once', () => {
    const counted = { ...job, non2xx: 0 };
    expect(replayProgressText({ ...counted, done: 3, total: 3, state: 'finished' })).toBe('Replayed 3 of 3 — finished: all 3 were answered 2xx.');
    expect(replayProgressText({ ...counted, done: 4, total: 4, non2xx: 2, state: 'finished' })).toBe(
      "Replayed 4 of 4 — finished: 2 answered 2xx, 2 answered outside 2xx. Each request's Forwards section shows what it got.",
    );
    expect(replayProgressText({ ...counted, done: 4, total: 4, non2xx: 1, failed: 1, state: 'finished' })).toBe(
      "Replayed 4 of 4 — finished: 2 answered 2xx, 1 answered outside 2xx, 1 got no answer (or was no longer stored). Each request's Forwards section shows what it got.",
    );
    expect(replayProgressText({ ...counted, done: 2, total: 2, non2xx: 2, state: 'finished' })).not.toMatch(/\b0 answered/);
    expect(replayProgressText({ ...counted, non2xx: 1, failed: 1, state: 'running' })).toBe('Replaying 3 of 10, 1 answered outside 2xx, 1 with no answer…');
  });
  it('with captures no longer stored counted apart (missing): says nothing was sent for them, not that they got no answer', () => {
    const counted = { ...job, non2xx: 0, missing: 0 };
    expect(replayProgressText({ ...counted, done: 4, total: 4, missing: 1, state: 'finished' })).toBe(
      "Replayed 4 of 4 — finished: 3 answered 2xx, 1 was no longer stored (nothing sent). Each request's Forwards section shows what it got.",
    );
    expect(replayProgressText({ ...counted, done: 5, total: 5, missing: 2, failed: 1, non2xx: 1, state: 'finished' })).toBe(
      "Replayed 5 of 5 — finished: 1 answered 2xx, 1 answered outside 2xx, 1 got no answer or was not sent, 2 were no longer stored (nothing sent). Each request's Forwards section shows what it got.",
    );
    expect(replayProgressText({ ...counted, done: 2, total: 2, missing: 2, state: 'finished' })).not.toMatch(/\b0 answered|all 2 were answered/);
    expect(replayProgressText({ ...counted, missing: 1, state: 'running' })).toBe('Replaying 3 of 10, 1 no longer stored…');
  });
  it('says why a job stopped before the end', () => {
    expect(replayProgressText({ ...job, state: 'failed', error: 'the instance running it stopped before it finished' })).toBe(
      'Replayed 3 of 10 — stopped: the instance running it stopped before it finished. Replay the rest again to finish.',
    );
    expect(replayProgressText({ ...job, state: 'failed' })).toMatch(/stopped: an error ended it/);
    expect(replayProgressText({ ...job, state: 'cancelled' })).toBe('Replayed 3 of 10 — cancelled.');
  });
});
