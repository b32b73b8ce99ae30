// One wording for what answered: the bin page's capture and the retry lab's attempt read alike.
import { describe, expect, it } from 'vitest';
import { answeredBy } from '../../client/src/lib/answered-by.ts';
import { planNote } from '../../client/src/lib/timeline.ts';
import type { Attempt } from '../../shared/api.ts';

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
