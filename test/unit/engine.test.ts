// Issue 3: the response-plan engine is pure; these tests drive it directly.
import { describe, expect, it } from 'vitest';
import type { PlanStep, ResponseConfig } from '../../shared/api.ts';
import { decide, initialPlanState, type RequestFacts } from '../../server/control/engine.ts';
import { defaultConfig } from '../../server/control/validate.ts';
import type { PlanState } from '../../server/store/types.ts';

const post: RequestFacts = { method: 'POST', path: '/', headers: [] };

function config(plan: PlanStep[], extra: Partial<ResponseConfig> = {}): ResponseConfig {
  return { ...defaultConfig(42), plan, ...extra };
}

/** Run n requests through the engine; answers the status (or fault) of each. */
function run(c: ResponseConfig, n: number, facts: RequestFacts | ((i: number) => RequestFacts) = post) {
  let state: PlanState = initialPlanState(c);
  const out: (number | string)[] = [];
  for (let i = 0; i < n; i++) {
    const r = decide(c, state, typeof facts === 'function' ? facts(i) : facts);
    state = r.state;
    out.push(r.decision.fault ?? r.decision.outcome.status!);
  }
  return { out, state };
}

describe('plan engine', () => {
  it('no plan: always the default response', () => {
    expect(run(config([]), 3).out).toEqual([200, 200, 200]);
  });

  it('steps in order, `times` repeats, then the default', () => {
    const { out, state } = run(config([{ status: 500, times: 2 }, { status: 503 }]), 5);
    expect(out).toEqual([500, 500, 503, 200, 200]);
    expect(state).toMatchObject({ exhausted: true, consumed: 3 });
  });

  it('afterPlan "loop" starts over', () => {
    expect(run(config([{ status: 500 }, { status: 201 }], { afterPlan: 'loop' }), 5).out).toEqual([500, 201, 500, 201, 500]);
  });

  it('faults and delays come through', () => {
    const c = config([{ fault: 'timeout' }, { fault: 'reset', delayMs: 5 }, { status: 200, delayMs: 8000 }]);
    let s = initialPlanState(c);
    const d1 = decide(c, s, post);
    s = d1.state;
    expect(d1.decision).toMatchObject({ fault: 'timeout', response: null, outcome: { status: null, fault: 'timeout', source: 'step', index: 0 } });
    const d2 = decide(c, s, post);
    s = d2.state;
    expect(d2.decision).toMatchObject({ fault: 'reset', delayMs: 5 });
    const d3 = decide(c, s, post);
    expect(d3.decision).toMatchObject({ fault: null, delayMs: 8000, response: { status: 200 } });
  });

  it('a step with a status is self-contained; one without inherits the default', () => {
    const c = config([{ status: 503, headers: { 'retry-after': '120' } }, { delayMs: 7 }], {
      default: { status: 202, headers: { 'x-d': '1' }, body: 'dflt', contentType: 'text/x', delayMs: 0 },
    });
    let s = initialPlanState(c);
    const a = decide(c, s, post);
    s = a.state;
    expect(a.decision.response).toEqual({ status: 503, headers: { 'retry-after': '120' }, body: '503 Service Unavailable\n', contentType: 'text/plain; charset=utf-8' });
    const b = decide(c, s, post);
    expect(b.decision.response).toEqual({ status: 202, headers: { 'x-d': '1' }, body: 'dflt', contentType: 'text/x' });
    expect(b.decision.delayMs).toBe(7);
  });

  it('probability: a fixed seed replays exactly, hits about p of the time, and misses answer the default', () => {
    const c = config([{ status: 503, probability: 0.3 }], { afterPlan: 'loop', seed: 7 });
    const a = run(c, 1000).out;
    const b = run(c, 1000).out;
    expect(a).toEqual(b);
    const hits = a.filter((x) => x === 503).length;
    expect(hits).toBeGreaterThan(240);
    expect(hits).toBeLessThan(360);
    expect(new Set(a)).toEqual(new Set([503, 200]));
    const other = run({ ...c, seed: 8 }, 1000).out;
    expect(other).not.toEqual(a);
  });

  it('a probability miss still uses up the step', () => {
    // p = 0 never hits: the step is consumed, then the next step answers.
    expect(run(config([{ status: 503, probability: 0 }, { status: 418 }]), 3).out).toEqual([200, 418, 200]);
    expect(run(config([{ status: 503, probability: 1 }, { status: 418 }]), 3).out).toEqual([503, 418, 200]);
  });

  it('the roll is recorded in the outcome', () => {
    const c = config([{ status: 503, probability: 0.5 }], { seed: 1 });
    const d = decide(c, initialPlanState(c), post).decision;
    expect(d.outcome.roll).toMatchObject({ p: 0.5 });
    expect(d.outcome.roll!.hit).toBe(d.outcome.roll!.value < 0.5);
    expect(d.outcome.source).toBe('step');
    expect(d.outcome.index).toBe(0);
  });

  it('matching: a step only consumes requests it matches; others get the default', () => {
    const c = config([{ status: 500, match: { method: 'POST', pathPrefix: '/hooks' } }, { status: 201 }]);
    const facts = (i: number): RequestFacts => [
      { method: 'GET', path: '/hooks/a', headers: [] },
      { method: 'POST', path: '/other', headers: [] },
      { method: 'POST', path: '/hooks/a', headers: [] },
      { method: 'GET', path: '/', headers: [] },
    ][i];
    expect(run(c, 4, facts).out).toEqual([200, 200, 500, 201]);
  });

  it('matching on a header value (name case-insensitive, value exact)', () => {
    const c = config([{ status: 500, match: { header: { name: 'X-Event', value: 'sync_end' } } }], { afterPlan: 'loop' });
    const facts = (i: number): RequestFacts => ({ method: 'POST', path: '/', headers: ['x-event', i % 2 ? 'sync_end' : 'sync_start'] });
    expect(run(c, 4, facts).out).toEqual([200, 500, 200, 500]);
  });

  it('rules are checked first and never consumed', () => {
    const c = config([{ status: 500, times: 2 }], { rules: [{ status: 204, match: { pathPrefix: '/health' } }] });
    const facts = (i: number): RequestFacts => ({ method: 'GET', path: i % 2 ? '/health' : '/', headers: [] });
    const { out, state } = run(c, 6, facts);
    expect(out).toEqual([500, 204, 500, 204, 200, 204]);
    expect(state.consumed).toBe(2);
  });

  it('is pure: the input state is never changed', () => {
    const c = config([{ status: 500 }]);
    const s = initialPlanState(c);
    const copy = structuredClone(s);
    decide(c, s, post);
    expect(s).toEqual(copy);
  });
});

// Issue 12: a plan that targets one event by a JSON body field.
describe('json match', () => {
  const body = (event: string): RequestFacts => ({ ...post, json: { value: { event, data: { items: [{ id: 7 }] } } } });
  it('"fail sync_end only": a step matching event=sync_end is used only by sync_end; others get the default and leave it', () => {
    const c = config([{ status: 500, times: 2, match: { json: { path: 'event', equals: 'sync_end' } } }]);
    const seq = ['sync_start', 'sync_end', 'test', 'sync_end', 'sync_end'];
    expect(run(c, seq.length, (i) => body(seq[i])).out).toEqual([200, 500, 200, 500, 200]);
  });
  it('paths go into objects and arrays; no JSON body (or no such field) never matches', () => {
    const c = config([{ status: 500, match: { json: { path: 'data.items.0.id', equals: 7 } } }], { afterPlan: 'loop' });
    expect(run(c, 1, body('x')).out).toEqual([500]);
    expect(run(c, 1, post).out).toEqual([200]);
    expect(run(c, 1, { ...post, json: null }).out).toEqual([200]);
    expect(run(config([{ status: 500, match: { json: { path: 'data.nope', equals: null } } }]), 1, body('x')).out).toEqual([200]);
  });
  it('every answer says how many requests had used the plan', () => {
    const c = config([{ status: 500, times: 2 }]);
    let s = initialPlanState(c);
    const uses: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const r = decide(c, s, post);
      s = r.state;
      uses.push(r.decision.outcome.planUses);
    }
    expect(uses).toEqual([1, 2, 2]);
  });
});
