// The start page's reads of the bins (client/src/lib/poll-guard.ts): a poll waits for the read
// out, an answer older than the one applied is dropped, and so is one sent before a change made
// here; a read that never answers holds the polls back only so long.
import { describe, expect, it } from 'vitest';
import { PollGuard } from '../../client/src/lib/poll-guard.ts';
import { deferred } from '../helpers/deferred.ts';

const tick = () => new Promise((r) => setTimeout(r, 0));

/** A guard whose reads the test settles by hand (`calls`), and what was applied (`shown`). */
function setup(opts: ConstructorParameters<typeof PollGuard>[0] = {}) {
  const g = new PollGuard(opts);
  const calls: ReturnType<typeof deferred<string>>[] = [];
  /** Each read's signal. */
  const signals: AbortSignal[] = [];
  const shown: string[] = [];
  const errors: unknown[] = [];
  const read = (signal: AbortSignal) => {
    const d = deferred<string>();
    calls.push(d);
    signals.push(signal);
    return d.promise;
  };
  const apply = (v: string) => void shown.push(v);
  const fail = (e: unknown) => void errors.push(e);
  return { g, calls, signals, shown, errors, poll: () => g.poll(read, apply, fail), run: () => g.run(read, apply, fail) };
}

describe('PollGuard', () => {
  it('skips a poll while a read is out, and polls again once it answered', async () => {
    const { calls, shown, poll } = setup();
    poll();
    poll(); // the interval again, on a slow server
    poll(); // the tab shown again
    expect(calls).toHaveLength(1);
    calls[0].resolve('a');
    await tick();
    expect(shown).toEqual(['a']);
    poll();
    expect(calls).toHaveLength(2);
    // A failed read lets the next poll through too.
    calls[1].reject(new Error('offline'));
    await tick();
    poll();
    expect(calls).toHaveLength(3);
  });

  it('never applies an answer older than one applied', async () => {
    const { calls, shown, run, poll } = setup();
    run(); // the first load, slow
    run(); // the server back: read again
    calls[1].resolve('new');
    await tick();
    calls[0].resolve('old');
    await tick();
    expect(shown).toEqual(['new']);
    // Its error neither: the list shown is newer than what failed.
    poll();
    run();
    calls[3].resolve('newer');
    await tick();
    calls[2].reject(new Error('late'));
    await tick();
    expect(shown).toEqual(['new', 'newer']);
  });

  it('drops an answer to a read sent before a change here (a delete), and its error', async () => {
    const { g, calls, shown, errors, poll } = setup();
    poll();
    g.changed();
    calls[0].resolve('with the deleted bin');
    await tick();
    expect(shown).toEqual([]);
    poll();
    g.changed();
    calls[1].reject(new Error('late'));
    await tick();
    expect(errors).toEqual([]);
    poll();
    calls[2].resolve('after');
    await tick();
    expect(shown).toEqual(['after']);
  });

  it('stops waiting for a read that never answers after staleAfterMs, and ends it; its late answer is not applied over a newer one', async () => {
    let now = 0;
    const { calls, signals, shown, poll } = setup({ staleAfterMs: 30_000, now: () => now });
    poll();
    now = 29_999;
    poll();
    expect(calls).toHaveLength(1);
    expect(signals[0].aborted).toBe(false);
    now = 30_000;
    poll();
    expect(calls).toHaveLength(2);
    // Ended (a fetch given this signal closes its request), the new one not.
    expect(signals.map((s) => s.aborted)).toEqual([true, false]);
    calls[1].resolve('new');
    await tick();
    calls[0].resolve('old');
    await tick();
    expect(shown).toEqual(['new']);
  });

  it('turns a read that throws into a failed read', async () => {
    const g = new PollGuard();
    const errors: unknown[] = [];
    await g.run(
      () => {
        throw new Error('boom');
      },
      () => {},
      (e) => void errors.push(e),
    );
    expect(errors).toHaveLength(1);
    expect(g.busy).toBe(false);
  });
});
