// Turns the wire form of a bin's response settings into a complete ResponseConfig, or throws a
// 400 listing every bad field (the schema is shared/schema/response.ts). Nothing is stored
// until this has passed.
import type { ResponseConfig, ResponseSpec } from '../../shared/api.ts';
import { DEFAULT_RESPONSE_LIMITS, type ResponseLimits, responseConfigInput } from '../../shared/schema/response.ts';
import { parse } from '../http/parse.ts';

export type ControlLimits = ResponseLimits;
export const DEFAULT_LIMITS: ControlLimits = DEFAULT_RESPONSE_LIMITS;

export const DEFAULT_RESPONSE: ResponseSpec = {
  status: 200,
  headers: {},
  body: 'ok\n',
  contentType: 'text/plain; charset=utf-8',
  delayMs: 0,
};

export function defaultConfig(seed: number): ResponseConfig {
  return { default: { ...DEFAULT_RESPONSE }, rules: [], plan: [], afterPlan: 'default', seed, cors: true };
}

// The schema depends on the limits (MAX_DELAY_MS); build it once per limits object.
const schemas = new WeakMap<ControlLimits, ReturnType<typeof responseConfigInput>>();

export function parseResponseConfig(input: unknown, lim: ControlLimits, randomSeed: () => number): ResponseConfig {
  let schema = schemas.get(lim);
  if (!schema) schemas.set(lim, (schema = responseConfigInput(lim)));
  const o = parse(schema, input);
  return {
    default: { ...DEFAULT_RESPONSE, ...o.default },
    rules: o.rules ?? [],
    plan: o.plan ?? [],
    afterPlan: o.afterPlan ?? 'default',
    seed: o.seed ?? randomSeed(),
    cors: o.cors ?? true,
  };
}
