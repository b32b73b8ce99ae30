// The bulk replay's progress line, for each state a job can be in.
import { describe, expect, it } from 'vitest';
import { replayProgressText } from '../../client/src/lib/replay-progress.ts';

describe('replayProgressText', () => {
  const job = { done: 3, total: 10, failed: 0, error: null };
  it('says how far it is, and how many failed', () => {
    expect(replayProgressText({ ...job, state: 'running' })).toBe('Replaying 3 of 10…');
    expect(replayProgressText({ ...job, state: 'running', failed: 2 })).toBe('Replaying 3 of 10, 2 failed…');
    expect(replayProgressText({ ...job, done: 10, state: 'finished' })).toMatch(/^Replayed 10 of 10 — done\./);
  });
  it('says why a job stopped before the end', () => {
    expect(replayProgressText({ ...job, state: 'failed', error: 'the instance running it stopped before it finished' })).toBe(
      'Replayed 3 of 10 — stopped: the instance running it stopped before it finished. Replay the rest again to finish.',
    );
    expect(replayProgressText({ ...job, state: 'failed' })).toMatch(/stopped: an error ended it/);
    expect(replayProgressText({ ...job, state: 'cancelled' })).toBe('Replayed 3 of 10 — cancelled.');
  });
});
