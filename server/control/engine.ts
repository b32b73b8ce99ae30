// The response-plan engine: pure. Given a bin's settings, where its plan stands and the facts
// of one request, it picks the answer and the next plan state. No I/O, no clock, no globals:
// randomness comes from the state's seeded generator, so a scenario replays exactly.
import { STATUS_CODES } from 'node:http';
import type { AnswerOutcome, Fault, Match, PlanPosition, PlanStep, ResponseConfig } from '../../shared/api.ts';
import { rngStep, seedState } from '../rng.ts';
import type { PlanState } from '../store/types.ts';

export interface RequestFacts {
  method: string;
  /** Path below the bin. */
  path: string;
  /** Flat [name, value, ...] as Node's rawHeaders. */
  headers: readonly string[];
  /** The body parsed as JSON, when a `json` match needs it ({ value }); absent or null: not JSON. */
  json?: { value: unknown } | null;
}

/** The value at a dot path ("data.items.0.id"); undefined when the path leads nowhere. */
export function jsonAt(value: unknown, path: string): unknown {
  let cur = value;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(key)) return undefined;
      cur = cur[Number(key)];
    } else {
      if (!Object.hasOwn(cur, key)) return undefined;
      cur = (cur as Record<string, unknown>)[key];
    }
  }
  return cur;
}

/** Does any rule or step of these settings match on the JSON body (so the body must be read first)? */
export function needsBody(config: ResponseConfig): boolean {
  return config.rules.some((r) => r.match?.json) || config.plan.some((s) => s.match?.json);
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  contentType: string;
}

export interface Decision {
  outcome: AnswerOutcome;
  /** What to send; null when a fault answers. */
  response: HttpAnswer | null;
  fault: Fault | null;
  delayMs: number;
}

export function initialPlanState(config: ResponseConfig): PlanState {
  return { step: 0, usedInStep: 0, consumed: 0, exhausted: false, rng: seedState(config.seed) };
}

export function positionOf(state: PlanState): PlanPosition {
  return { step: state.step, usedInStep: state.usedInStep, exhausted: state.exhausted, consumed: state.consumed };
}

export function matches(m: Match | undefined, facts: RequestFacts): boolean {
  if (!m) return true;
  if (m.method && m.method.toUpperCase() !== facts.method.toUpperCase()) return false;
  if (m.pathPrefix && !facts.path.startsWith(m.pathPrefix)) return false;
  if (m.header) {
    const want = m.header.name.toLowerCase();
    let found = false;
    for (let i = 0; i < facts.headers.length && !found; i += 2) {
      found = facts.headers[i].toLowerCase() === want && facts.headers[i + 1] === m.header.value;
    }
    if (!found) return false;
  }
  if (m.json) {
    if (!facts.json) return false;
    if (jsonAt(facts.json.value, m.json.path) !== m.json.equals) return false;
  }
  return true;
}

export function reasonBody(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Status'}\n`;
}

/**
 * A step that names a status is self-contained (a missing body becomes the status text).
 * A step without a status is the default response with the fields it gives changed.
 */
function answerFor(step: PlanStep, config: ResponseConfig): HttpAnswer {
  const d = config.default;
  if (step.status === undefined) {
    return {
      status: d.status,
      headers: step.headers ?? d.headers,
      body: step.body ?? d.body,
      contentType: step.contentType ?? d.contentType,
    };
  }
  return {
    status: step.status,
    headers: step.headers ?? {},
    body: step.body ?? reasonBody(step.status),
    contentType: step.contentType ?? 'text/plain; charset=utf-8',
  };
}

/** Tag a decision with how many requests had used the plan, this one included. */
export function withUses(d: Decision, state: Pick<PlanState, 'consumed'>): Decision {
  return { ...d, outcome: { ...d.outcome, planUses: state.consumed } };
}

export function fromDefault(config: ResponseConfig, outcome: Partial<AnswerOutcome> = {}): Decision {
  const d = config.default;
  return {
    outcome: { status: d.status, delayMs: d.delayMs, fault: null, source: 'default', index: null, roll: null, ...outcome },
    response: { status: d.status, headers: d.headers, body: d.body, contentType: d.contentType },
    fault: null,
    delayMs: d.delayMs,
  };
}

export function fromStep(step: PlanStep, config: ResponseConfig, source: 'step' | 'rule', index: number, roll: AnswerOutcome['roll']): Decision {
  const delayMs = step.delayMs ?? (step.status === undefined && !step.fault ? config.default.delayMs : 0);
  if (step.fault) {
    return {
      outcome: { status: null, delayMs, fault: step.fault, source, index, roll },
      response: null,
      fault: step.fault,
      delayMs,
    };
  }
  const response = answerFor(step, config);
  return {
    outcome: { status: response.status, delayMs, fault: null, source, index, roll },
    response,
    fault: null,
    delayMs,
  };
}

/** Where the plan goes after `state.step` answered one more request. */
function advance(state: PlanState, config: ResponseConfig, rng: number): PlanState {
  const step = config.plan[state.step];
  let next = state.step;
  let used = state.usedInStep + 1;
  let exhausted = false;
  if (used >= (step.times ?? 1)) {
    next++;
    used = 0;
    if (next >= config.plan.length) {
      if (config.afterPlan === 'loop') next = 0;
      else exhausted = true;
    }
  }
  return { step: next, usedInStep: used, consumed: state.consumed + 1, exhausted, rng };
}

/**
 * Pick the answer for one request. Rules are checked first and never consumed; then the
 * current plan step, which is consumed only by a request it matches; else the default.
 * A probability step that misses answers with the default, and still counts as used.
 */
export function decide(config: ResponseConfig, state: PlanState, facts: RequestFacts): { decision: Decision; state: PlanState } {
  for (let i = 0; i < config.rules.length; i++) {
    const rule = config.rules[i];
    if (matches(rule.match, facts)) return { decision: withUses(fromStep(rule, config, 'rule', i, null), state), state };
  }
  if (config.plan.length === 0 || state.exhausted) return { decision: withUses(fromDefault(config), state), state };
  const index = state.step;
  const step = config.plan[index];
  if (!matches(step.match, facts)) return { decision: withUses(fromDefault(config), state), state };

  let rng = state.rng;
  let roll: AnswerOutcome['roll'] = null;
  if (step.probability !== undefined) {
    const r = rngStep(rng);
    rng = r.state;
    roll = { p: step.probability, value: r.value, hit: r.value < step.probability };
  }
  const nextState = advance(state, config, rng);
  if (roll && !roll.hit) {
    return { decision: withUses(fromDefault(config, { source: 'step', index, roll }), nextState), state: nextState };
  }
  return { decision: withUses(fromStep(step, config, 'step', index, roll), nextState), state: nextState };
}
