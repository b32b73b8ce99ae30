// One wording for what answered: the bin page's capture and the retry lab's attempt read alike.
import { describe, expect, it } from 'vitest';
import { answeredBy, proxyCutOff } from '../../client/src/lib/answered-by.ts';
import { planNote } from '../../client/src/lib/timeline.ts';
import type { Attempt, ForwardRecord } from '../../shared/api.ts';

describe('answeredBy', () => {
  it('names every source', () => {
    expect(answeredBy({ source: 'default', index: null, roll: null })).toBe('default response');
    expect(answeredBy({ source: 'step', index: 2, roll: null })).toBe('plan step 3');
    expect(answeredBy({ source: 'rule', index: 0, roll: null })).toBe('rule 1');
    expect(answeredBy({ source: 'preflight', index: null, roll: null })).toBe('hooklab, as a CORS preflight (no plan step used)');
    expect(answeredBy({ source: 'proxy', index: null, roll: null })).toBe('the first forward target (proxy mode)');
    expect(answeredBy({ source: 'rate-limit', index: null, roll: null })).toBe('rate limit');
    expect(answeredBy({ source: 'store', index: null, roll: null })).toMatch(/^hooklab: the store could not confirm it in time \(503/);
  });

  it('a step at random: hit, missed (the default answered), and a record from before draws were kept', () => {
    expect(answeredBy({ source: 'step', index: 0, roll: { p: 0.125, value: 0.1, hit: true } })).toBe('plan step 1 (its 12.5% chance hit)');
    expect(answeredBy({ source: 'step', index: 1, roll: { p: 0.3, value: 0.9, hit: false } })).toBe('default response (plan step 2: its 30% chance missed)');
    expect(answeredBy({ source: 'step', index: 1 })).toBe('plan step 2');
  });

  it("an attempt's plan note starts with the capture's wording", () => {
    const roll = { p: 0.3, value: 0.9, hit: false };
    const attempt = { planUse: { source: 'step', index: 0, roll, others: [], othersCount: 0 } } as unknown as Attempt;
    expect(planNote(attempt)).toBe(answeredBy({ source: 'step', index: 0, roll }));
  });
});

describe('proxyCutOff', () => {
  const rec = (o: Partial<ForwardRecord>): ForwardRecord => ({
    kind: 'proxy', at: '2026-01-01T00:00:00.000Z', target: 'http://app/', url: 'http://app/', method: 'POST', status: 200, headers: [], body: 'partial',
    bodyEncoding: 'utf8', bodyTruncated: false, durationMs: 5, error: null, errorDetail: null, edited: false, ...o,
  });

  it('says hooklab answered when the first target\'s answer was cut off after its head, not that the target answered', () => {
    const cut = rec({ error: 'reset', bodyTruncated: true, errorDetail: 'connection reset by the target before the answer was complete' });
    expect(proxyCutOff([rec({ kind: 'forward' }), cut])).toBe(
      "hooklab: the first forward target's answer (200) was cut off (connection reset by the target before the answer was complete), so the sender was not given it (proxy mode)",
    );
    expect(proxyCutOff([rec({ error: 'timeout', bodyTruncated: true, errorDetail: 'answer not finished within the timeout' })])).toMatch(/^hooklab: .*\(200\) was cut off \(answer not finished within the timeout\)/);
  });

  it('is null for a whole answer (capped or not), no answer at all, a loop, or no proxy record', () => {
    expect(proxyCutOff([rec({})])).toBeNull();
    expect(proxyCutOff([rec({ bodyTruncated: true })])).toBeNull();
    expect(proxyCutOff([rec({ status: null, error: 'refused' })])).toBeNull();
    expect(proxyCutOff([rec({ status: 508, error: 'loop' })])).toBeNull();
    expect(proxyCutOff([rec({ kind: 'forward', error: 'reset' })])).toBeNull();
    expect(proxyCutOff([])).toBeNull();
  });
});
