// A bin's answers: the default response, standing rules, and a plan of steps used up one per
// matching request (PUT /api/bins/:id/response).
import { z } from 'zod';
import { bool, int, list, num, obj, oneOf, str, typeError } from './common.ts';
import { answerHeaders, headerValue, httpToken } from './headers.ts';

export interface ResponseLimits {
  maxDelayMs: number;
  maxBodyChars: number;
  maxSteps: number;
  maxRules: number;
}

export const DEFAULT_RESPONSE_LIMITS: ResponseLimits = { maxDelayMs: 120_000, maxBodyChars: 256 * 1024, maxSteps: 200, maxRules: 50 };

export const FAULTS = ['timeout', 'reset'] as const;
export const Fault = oneOf(FAULTS).meta({ description: 'timeout: hold the request, never answer; reset: drop the connection.' });

export const AnswerSource = z
  .enum(['default', 'step', 'rule', 'rate-limit', 'preflight', 'proxy', 'store'])
  .meta({
    description:
      "Which part of the settings decided the answer: preflight, a CORS preflight hooklab answered (no plan step used); proxy, the first forward target answered (proxy mode); store, hooklab answered 503 storage_unavailable because the store did not confirm the capture in time (Redis stalled, or the link broke after it was sent; or, on disk, its write failed, a full disk say, while it was kept in memory), and it was stored after all: the sender was told to retry, so its retry is a capture of its own.",
  });

/** A probability step's draw: the capture's answer.roll, and an attempt's planUse.roll. */
export const PlanRoll = z.object({ p: z.number(), value: z.number(), hit: z.boolean() });

export const Match = obj({
  method: httpToken(32)
    .transform((m) => m.toUpperCase())
    .optional()
    .meta({ description: 'Exact method, case-insensitive.' }),
  pathPrefix: str(2048, 1)
    .regex(/^\//, { error: 'must start with "/"' })
    .optional()
    .meta({ description: 'Sub-path prefix below the bin, e.g. "/hooks".' }),
  header: obj({ name: httpToken(256), value: str(8192) })
    .optional()
    .meta({ description: 'A header (name case-insensitive) whose value must equal `value`.' }),
  json: obj({
    path: str(256, 1)
      .regex(/^[^.]+(\.[^.]+)*$/, { error: 'must be field names joined by dots, e.g. "event" or "data.items.0.id"' })
      .meta({ description: 'Dot-separated; a number picks an array item.' }),
    equals: z.union([z.string(), z.number(), z.boolean(), z.null()], { error: typeError('must be a string, number, true, false or null') }),
  })
    .optional()
    .meta({ description: 'A JSON body whose field at `path` equals `equals` (e.g. {"path": "event", "equals": "sync_end"}).' }),
}).meta({ id: 'Match' });

const ANSWER_KEYS = ['status', 'headers', 'body', 'contentType'] as const;

function stepShape(lim: ResponseLimits) {
  return {
    status: int(200, 599).optional(),
    headers: answerHeaders().optional(),
    body: str(lim.maxBodyChars).optional(),
    contentType: headerValue(256, 1).optional(),
    delayMs: int(0, lim.maxDelayMs).optional(),
    fault: Fault.optional(),
    match: Match.optional(),
  };
}

/** A fault sends no response: it cannot come with one. */
function noAnswerWithFault(s: { fault?: string } & Record<string, unknown>, ctx: z.RefinementCtx) {
  if (!s.fault) return;
  for (const k of ANSWER_KEYS) {
    if (s[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `cannot be combined with a fault (a "${s.fault}" sends no response)` });
  }
}

/** noAnswerWithFault, as the OpenAPI document says it: with `fault`, none of ANSWER_KEYS. */
const noAnswerWithFaultDoc = {
  dependentSchemas: { fault: { not: { anyOf: ANSWER_KEYS.map((k) => ({ required: [k] })) } } },
};

export const planStep = (lim: ResponseLimits) =>
  obj({
    ...stepShape(lim),
    times: int(1, 1_000_000).optional().meta({ description: 'Repeat this step for N requests (default 1).' }),
    probability: num(0, 1).optional().meta({ description: 'Answer as written with this probability, else with `default`.' }),
  })
    .superRefine(noAnswerWithFault)
    .meta({ description: `A step with \`fault\` sends no response: it cannot have ${ANSWER_KEYS.join(', ')}.`, ...noAnswerWithFaultDoc });

export const rule = (lim: ResponseLimits) =>
  obj(stepShape(lim))
    .superRefine(noAnswerWithFault)
    .meta({ description: `A rule with \`fault\` sends no response: it cannot have ${ANSWER_KEYS.join(', ')}.`, ...noAnswerWithFaultDoc });

export const responseSpecInput = (lim: ResponseLimits) =>
  obj({
    status: int(200, 599).optional(),
    headers: answerHeaders().optional(),
    body: str(lim.maxBodyChars).optional(),
    contentType: headerValue(256, 1).optional(),
    delayMs: int(0, lim.maxDelayMs).optional(),
  });

/** The body of PUT /api/bins/:id/response: everything optional; missing parts take defaults. */
export const responseConfigInput = (lim: ResponseLimits = DEFAULT_RESPONSE_LIMITS) =>
  obj({
    default: responseSpecInput(lim).optional(),
    rules: list(rule(lim), lim.maxRules).optional().meta({ description: 'Checked first, never used up.' }),
    plan: list(planStep(lim), lim.maxSteps).optional().meta({ description: 'Used up one step per matching request.' }),
    afterPlan: oneOf(['default', 'loop']).optional(),
    seed: int(0, 2 ** 32 - 1).optional().meta({ description: 'Seed for probability steps, so a scenario replays exactly.' }),
    cors: bool()
      .optional()
      .meta({
        description:
          'Answer browsers on other origins (default true): CORS preflights get 204 allowing the origin, method and headers asked for (captured, marked, no plan step used); other answers carry Access-Control-Allow-Origin and -Expose-Headers. false: the bin answers exactly as set.',
      }),
  });

// -------------------------------------------------------------------------- answers

export const ResponseSpec = z
  .object({ status: z.int(), headers: z.record(z.string(), z.string()), body: z.string(), contentType: z.string(), delayMs: z.int() })
  .meta({ id: 'ResponseSpec' });

/** A step or rule as stored and shown (same fields as the input). */
export const PlanStep = z
  .object({
    status: z.int().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.string().optional(),
    contentType: z.string().optional(),
    delayMs: z.int().optional(),
    fault: Fault.optional(),
    times: z.int().optional(),
    probability: z.number().optional(),
    match: Match.optional(),
  })
  .meta({ id: 'PlanStep' });

export const ResponseConfig = z
  .object({
    default: ResponseSpec,
    rules: z.array(PlanStep),
    plan: z.array(PlanStep),
    afterPlan: z.enum(['default', 'loop']),
    seed: z.int(),
    cors: z.boolean(),
  })
  .meta({ id: 'ResponseConfig' });

export const PlanPosition = z
  .object({
    step: z.int().meta({ description: 'Index of the step the next matching request meets.' }),
    usedInStep: z.int().meta({ description: 'Requests already answered by that step (for `times`).' }),
    exhausted: bool().meta({ description: 'The plan ran out and `afterPlan` is "default".' }),
    consumed: z.int().meta({ description: 'Requests that went through the plan since the last reset.' }),
  })
  .meta({ id: 'PlanPosition' });

export const ResponseControlView = z.object({ config: ResponseConfig, position: PlanPosition }).meta({ id: 'ResponseControlView' });

/** POST …/response/check: the settings would be taken (refused ones get the PUT's 400, every bad field listed). */
export const ResponseCheckAnswer = z.object({ ok: z.literal(true) }).meta({ id: 'ResponseCheckAnswer' });
