// Turns the wire form of a bin's response settings into a complete ResponseConfig, or throws
// a 400 naming the first bad field. Nothing is stored until this has passed.
import type { Match, PlanStep, ResponseConfig, ResponseSpec } from '../../shared/api.ts';
import { invalid } from '../http/errors.ts';
import { ORIGIN_HEADER_REASON, isOriginHeader } from '../http/origin-headers.ts';
import { headerMap, headerValue, httpToken, integer, number, object, onlyKeys, oneOf, string } from '../http/validate.ts';

export interface ControlLimits {
  maxDelayMs: number;
  maxBodyChars: number;
  maxSteps: number;
  maxRules: number;
}

export const DEFAULT_LIMITS: ControlLimits = { maxDelayMs: 120_000, maxBodyChars: 256 * 1024, maxSteps: 200, maxRules: 50 };

export const DEFAULT_RESPONSE: ResponseSpec = {
  status: 200,
  headers: {},
  body: 'ok\n',
  contentType: 'text/plain; charset=utf-8',
  delayMs: 0,
};

export function defaultConfig(seed: number): ResponseConfig {
  return { default: { ...DEFAULT_RESPONSE }, rules: [], plan: [], afterPlan: 'default', seed };
}

const status = (v: unknown, f: string) => integer(v, f, 200, 599);
const delay = (v: unknown, f: string, lim: ControlLimits) => integer(v, f, 0, lim.maxDelayMs);

/** A bin's answer headers: valid HTTP, and none that would act for hooklab's origin. */
function answerHeaders(v: unknown, f: string): Record<string, string> {
  const h = headerMap(v, f);
  for (const k of Object.keys(h)) if (isOriginHeader(k)) throw invalid(`${f}.${k}`, ORIGIN_HEADER_REASON);
  return h;
}

function parseMatch(v: unknown, f: string): Match {
  const o = object(v, f);
  onlyKeys(o, ['method', 'pathPrefix', 'header'], f);
  const m: Match = {};
  if (o.method !== undefined) m.method = httpToken(o.method, `${f}.method`, 32).toUpperCase();
  if (o.pathPrefix !== undefined) {
    m.pathPrefix = string(o.pathPrefix, `${f}.pathPrefix`, 2048, 1);
    if (!m.pathPrefix.startsWith('/')) throw invalid(`${f}.pathPrefix`, 'must start with "/"');
  }
  if (o.header !== undefined) {
    const h = object(o.header, `${f}.header`);
    onlyKeys(h, ['name', 'value'], `${f}.header`);
    m.header = { name: httpToken(h.name, `${f}.header.name`, 256), value: string(h.value, `${f}.header.value`, 8192) };
  }
  return m;
}

function parseStep(v: unknown, f: string, lim: ControlLimits, kind: 'step' | 'rule'): PlanStep {
  const o = object(v, f);
  const keys = ['status', 'headers', 'body', 'contentType', 'delayMs', 'fault', 'match'];
  onlyKeys(o, kind === 'step' ? [...keys, 'times', 'probability'] : keys, f);
  const s: PlanStep = {};
  if (o.fault !== undefined) {
    s.fault = oneOf(o.fault, `${f}.fault`, ['timeout', 'reset'] as const);
    for (const k of ['status', 'headers', 'body', 'contentType'] as const) {
      if (o[k] !== undefined) throw invalid(`${f}.${k}`, `cannot be combined with a fault (a "${s.fault}" sends no response)`);
    }
  }
  if (o.status !== undefined) s.status = status(o.status, `${f}.status`);
  if (o.headers !== undefined) s.headers = answerHeaders(o.headers, `${f}.headers`);
  if (o.body !== undefined) s.body = string(o.body, `${f}.body`, lim.maxBodyChars);
  if (o.contentType !== undefined) s.contentType = headerValue(o.contentType, `${f}.contentType`, 256, 1);
  if (o.delayMs !== undefined) s.delayMs = delay(o.delayMs, `${f}.delayMs`, lim);
  if (o.times !== undefined) s.times = integer(o.times, `${f}.times`, 1, 1_000_000);
  if (o.probability !== undefined) s.probability = number(o.probability, `${f}.probability`, 0, 1);
  if (o.match !== undefined) s.match = parseMatch(o.match, `${f}.match`);
  return s;
}

function parseList(v: unknown, f: string, max: number, lim: ControlLimits, kind: 'step' | 'rule'): PlanStep[] {
  if (!Array.isArray(v)) throw invalid(f, 'must be a list');
  if (v.length > max) throw invalid(f, `at most ${max} entries`);
  return v.map((x, i) => parseStep(x, `${f}[${i}]`, lim, kind));
}

export function parseResponseConfig(input: unknown, lim: ControlLimits, randomSeed: () => number): ResponseConfig {
  const o = object(input, 'body');
  onlyKeys(o, ['default', 'rules', 'plan', 'afterPlan', 'seed'], '');
  const def: ResponseSpec = { ...DEFAULT_RESPONSE };
  if (o.default !== undefined) {
    const d = object(o.default, 'default');
    onlyKeys(d, ['status', 'headers', 'body', 'contentType', 'delayMs'], 'default');
    if (d.status !== undefined) def.status = status(d.status, 'default.status');
    if (d.headers !== undefined) def.headers = answerHeaders(d.headers, 'default.headers');
    if (d.body !== undefined) def.body = string(d.body, 'default.body', lim.maxBodyChars);
    if (d.contentType !== undefined) def.contentType = headerValue(d.contentType, 'default.contentType', 256, 1);
    if (d.delayMs !== undefined) def.delayMs = delay(d.delayMs, 'default.delayMs', lim);
  }
  return {
    default: def,
    rules: o.rules === undefined ? [] : parseList(o.rules, 'rules', lim.maxRules, lim, 'rule'),
    plan: o.plan === undefined ? [] : parseList(o.plan, 'plan', lim.maxSteps, lim, 'step'),
    afterPlan: o.afterPlan === undefined ? 'default' : oneOf(o.afterPlan, 'afterPlan', ['default', 'loop'] as const),
    seed: o.seed === undefined ? randomSeed() : integer(o.seed, 'seed', 0, 2 ** 32 - 1),
  };
}
