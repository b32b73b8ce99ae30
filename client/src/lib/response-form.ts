// The response editor's form model: strings as typed, converted to the API's wire format
// on save. The server validates everything and names the bad field (e.g. "plan[2].status");
// the few checks here are the ones the server cannot phrase in the form's own terms.
import type { Fault, PlanStep, ResponseConfig, ResponseConfigInput, ResponseSpec } from '../../../shared/api.ts';
import { HEADER_NAME_REASONS, NOT_HTTP_TOKEN, quoteHeaderName } from '../../../shared/header-reasons.ts';
import { type Describe, nameFromSlot } from './field-errors.ts';

export type StepKind = 'respond' | 'timeout' | 'reset';

export interface StepForm {
  kind: StepKind;
  /** Blank = the default response's status (and body, headers...). */
  status: string;
  times: string;
  /** Percent, 0-100; blank = always. */
  probability: string;
  delayMs: string;
  body: string;
  contentType: string;
  /** "Name: value" lines. */
  headers: string;
  matchMethod: string;
  matchPathPrefix: string;
  matchHeaderName: string;
  matchHeaderValue: string;
  /** A JSON body field ("event") and the value it must equal, as typed. */
  matchJsonPath: string;
  matchJsonEquals: string;
}

export interface DefaultForm {
  status: string;
  contentType: string;
  body: string;
  delayMs: string;
  headers: string;
}

export interface ResponseForm {
  default: DefaultForm;
  rules: StepForm[];
  plan: StepForm[];
  afterPlan: 'default' | 'loop';
  seed: string;
  cors: boolean;
}

export const emptyStep = (over: Partial<StepForm> = {}): StepForm => ({
  kind: 'respond',
  status: '',
  times: '',
  probability: '',
  delayMs: '',
  body: '',
  contentType: '',
  headers: '',
  matchMethod: '',
  matchPathPrefix: '',
  matchHeaderName: '',
  matchHeaderValue: '',
  matchJsonPath: '',
  matchJsonEquals: '',
  ...over,
});

export function headersToText(h: Record<string, string> | undefined): string {
  return h ? Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\n') : '';
}

export function stepToForm(s: PlanStep): StepForm {
  return emptyStep({
    kind: s.fault ?? 'respond',
    status: s.status === undefined ? '' : String(s.status),
    times: s.times === undefined ? '' : String(s.times),
    probability: s.probability === undefined ? '' : String(Math.round(s.probability * 10000) / 100),
    delayMs: s.delayMs === undefined ? '' : String(s.delayMs),
    body: s.body ?? '',
    contentType: s.contentType ?? '',
    headers: headersToText(s.headers),
    matchMethod: s.match?.method ?? '',
    matchPathPrefix: s.match?.pathPrefix ?? '',
    matchHeaderName: s.match?.header?.name ?? '',
    matchHeaderValue: s.match?.header?.value ?? '',
    matchJsonPath: s.match?.json?.path ?? '',
    matchJsonEquals: s.match?.json ? jsonEqualsText(s.match.json.equals) : '',
  });
}

export function configToForm(c: ResponseConfig): ResponseForm {
  return {
    default: {
      status: String(c.default.status),
      contentType: c.default.contentType,
      body: c.default.body,
      delayMs: String(c.default.delayMs),
      headers: headersToText(c.default.headers),
    },
    rules: c.rules.map(stepToForm),
    plan: c.plan.map(stepToForm),
    afterPlan: c.afterPlan,
    seed: String(c.seed),
    cors: c.cors !== false,
  };
}

export type FieldErrors = Record<string, string>;

/**
 * The "equals" of a JSON match as typed: a number, true, false, null or a "quoted" string
 * read as JSON; anything else is the text itself (so sync_end needs no quotes).
 */
export function jsonEqualsValue(text: string): string | number | boolean | null {
  const t = text.trim();
  if (/^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null|"(?:[^"\\]|\\.)*")$/.test(t)) return JSON.parse(t) as string | number | boolean | null;
  return text;
}

/** Back to what the form shows: strings plain, unless they would read as something else. */
export function jsonEqualsText(v: string | number | boolean | null): string {
  if (typeof v !== 'string') return JSON.stringify(v);
  return jsonEqualsValue(v) === v ? v : JSON.stringify(v);
}

/** A number when it reads as one; otherwise the text itself, for the server to reject by name. */
function num(s: string): number | string {
  const t = s.trim();
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}

/** One "Name: value" line of a headers box; `line` counts as the textarea shows it (blank lines too). */
export interface HeaderLine {
  name: string;
  value: string;
  line: number;
}

/** A headers box as typed: its headers (name and value trimmed), and the lines that are not "Name: value". */
export function headerLines(text: string): { headers: HeaderLine[]; bad: number[] } {
  const headers: HeaderLine[] = [];
  const bad: number[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) return;
    const c = line.indexOf(':');
    if (c <= 0) bad.push(i + 1);
    else headers.push({ name: line.slice(0, c).trim(), value: line.slice(c + 1).trim(), line: i + 1 });
  });
  return { headers, bad };
}

function parseHeaders(text: string, field: string, errors: FieldErrors): Record<string, string> | undefined {
  const { headers, bad } = headerLines(text);
  if (bad.length) errors[field] ??= `line ${bad[0]}: write each header as "Name: value"`;
  if (!headers.length) return undefined;
  const out: Record<string, string> = {};
  for (const h of headers) out[h.name] = h.value;
  return out;
}

function formToStep(f: StepForm, field: string, kind: 'step' | 'rule', errors: FieldErrors): PlanStep {
  const s: Record<string, unknown> = {};
  if (f.kind === 'timeout' || f.kind === 'reset') s.fault = f.kind as Fault;
  else {
    if (f.status.trim()) s.status = num(f.status);
    if (f.body !== '') s.body = f.body;
    if (f.contentType.trim()) s.contentType = f.contentType.trim();
    const h = parseHeaders(f.headers, `${field}.headers`, errors);
    if (h) s.headers = h;
  }
  if (f.delayMs.trim()) s.delayMs = num(f.delayMs);
  if (kind === 'step') {
    if (f.times.trim()) s.times = num(f.times);
    if (f.probability.trim()) {
      const p = num(f.probability);
      if (typeof p !== 'number' || p < 0 || p > 100) errors[`${field}.probability`] = 'must be a percentage from 0 to 100';
      else s.probability = Math.round(p * 100) / 10000;
    }
  }
  const match: Record<string, unknown> = {};
  if (f.matchMethod.trim()) match.method = f.matchMethod.trim();
  if (f.matchPathPrefix.trim()) match.pathPrefix = f.matchPathPrefix.trim();
  if (f.matchHeaderName.trim()) match.header = { name: f.matchHeaderName.trim(), value: f.matchHeaderValue };
  if (f.matchJsonPath.trim()) match.json = { path: f.matchJsonPath.trim(), equals: jsonEqualsValue(f.matchJsonEquals) };
  if (Object.keys(match).length) s.match = match;
  return s as PlanStep;
}

export function formToInput(f: ResponseForm): { input: ResponseConfigInput; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const def: Record<string, unknown> = {
    status: num(f.default.status),
    contentType: f.default.contentType.trim(),
    body: f.default.body,
    delayMs: f.default.delayMs.trim() ? num(f.default.delayMs) : 0,
    headers: parseHeaders(f.default.headers, 'default.headers', errors) ?? {},
  };
  const input: ResponseConfigInput = {
    default: def as Partial<ResponseSpec>,
    rules: f.rules.map((s, i) => formToStep(s, `rules[${i}]`, 'rule', errors)),
    plan: f.plan.map((s, i) => formToStep(s, `plan[${i}]`, 'step', errors)),
    afterPlan: f.afterPlan,
    cors: f.cors,
  };
  if (f.seed.trim()) input.seed = num(f.seed) as number;
  return { input, errors };
}

// Placing errors is field-errors.ts's job; slotFor is still importable from here.
export { slotFor } from './field-errors.ts';

/**
 * The hint under a Body field whose answer never carries one (HTTP: 204, 205, 304), so a body
 * typed there is not sent. `status`: the field's own, else (a step without one) the default's.
 */
export function bodyNotSentHint(status: string, body: string): string | undefined {
  const n = status.trim();
  if (body === '' || (n !== '204' && n !== '205' && n !== '304')) return undefined;
  return `Not sent: a ${n} carries no body (HTTP; a 205 goes with Content-Length: 0).`;
}

/** Every place in the form that can show a message; an error naming anything else goes to the top. */
export function responseSlots(f: ResponseForm): string[] {
  const out = ['default', 'default.status', 'default.contentType', 'default.body', 'default.delayMs', 'default.headers', 'plan', 'rules', 'seed', 'afterPlan', 'cors'];
  const step = ['', '.status', '.times', '.probability', '.delayMs', '.body', '.contentType', '.headers', '.fault', '.match', '.match.method', '.match.pathPrefix', '.match.header', '.match.header.value', '.match.json', '.match.json.equals'];
  for (const list of ['plan', 'rules'] as const) f[list].forEach((_, i) => out.push(...step.map((k) => `${list}[${i}]${k}`)));
  return out;
}

/**
 * The API's field as the form has it: a match's header name and JSON path are the "Only with
 * header" and "Only with JSON field" inputs themselves (their values have slots of their own).
 */
export const responseFieldAlias = (field: string): string => field.replace(/(\.match\.header)\.name$|(\.match\.json)\.path$/, '$1$2');

/** The headers box a slot stands for ("plan[1].headers"), as typed. */
function headersBox(f: ResponseForm, slot: string): string | undefined {
  if (slot === 'default.headers') return f.default.headers;
  const m = /^(plan|rules)\[(\d+)\]\.headers$/.exec(slot);
  return m ? f[m[1] as 'plan' | 'rules'][Number(m[2])]?.headers : undefined;
}

const atLines = (lines: number[]) => (lines.length === 0 ? '' : `${lines.length === 1 ? 'line' : 'lines'} ${lines.join(', ')}: `);

/**
 * A refused field on the slot that shows it, in the form's terms. The API names a header by
 * its key ("plan[0].headers.Content-Length"); the box by its line as typed, so that is said
 * ("line 1: Content-Length is set by …"), with whether the name or the value is at fault (both
 * come under the same key). Anything else is named from its slot: the step's box already says
 * which step it is, so "plan[0]." would only be noise.
 */
export function describeResponseError(f: ResponseForm): Describe {
  return (field, slot, message) => {
    const text = headersBox(f, slot);
    if (text === undefined || !field.startsWith(`${slot}.`)) return nameFromSlot(field, slot, message);
    const name = field.slice(slot.length + 1);
    const lines = headerLines(text)
      .headers.filter((h) => h.name === name)
      .map((h) => h.line);
    if (HEADER_NAME_REASONS.has(message)) {
      // Not a token: quoted, so spaces and the like show.
      return `${atLines(lines)}${message === NOT_HTTP_TOKEN ? `header name ${quoteHeaderName(name)}` : name} ${message}`;
    }
    // Typed twice, the last line's value is the one sent.
    return `${atLines(lines.slice(-1))}the value of ${name} ${message}`;
  };
}

// ----------------------------------------------------------------- presets

/**
 * A preset sets the failure plan only: the default response (its body, its headers such as
 * Access-Control-Allow-Origin), the rules, the seed and CORS stay as the user made them.
 */
export interface Preset {
  id: string;
  label: string;
  description: string;
  plan: PlanStep[];
  afterPlan: 'default' | 'loop';
}

export const PRESETS: Preset[] = [
  {
    id: 'always-500',
    label: 'Always 500',
    description: 'Every request gets 500 Internal Server Error (a plan of one 500 step, looping).',
    plan: [{ status: 500 }],
    afterPlan: 'loop',
  },
  {
    id: '500x3-then-200',
    label: '500 ×3, then 200',
    description: 'The first three requests get 500, every later one the default response (200 unless you changed it).',
    plan: [{ status: 500, times: 3 }],
    afterPlan: 'default',
  },
  {
    id: '503-retry-after',
    label: '503 + Retry-After, then 200',
    description: 'The first request gets 503 with Retry-After: 120, then the default response.',
    plan: [{ status: 503, headers: { 'Retry-After': '120' } }],
    afterPlan: 'default',
  },
  {
    id: '30pct-503',
    label: '30% 503',
    description: 'Each request has a 30% chance of 503 (seeded, so it replays), else the default response.',
    plan: [{ status: 503, probability: 0.3 }],
    afterPlan: 'loop',
  },
  {
    id: 'hang',
    label: 'Hang',
    description: 'Never answer: the sender times out (the server drops the socket after HANG_TIMEOUT_MS).',
    plan: [{ fault: 'timeout' }],
    afterPlan: 'loop',
  },
  {
    id: 'slow-200',
    label: 'Slow 200',
    description: 'Answer with the default response after 5 seconds.',
    plan: [{ delayMs: 5000 }],
    afterPlan: 'loop',
  },
];

/** The settings with a preset's plan: everything else as it was. */
export function withPreset(c: ResponseConfig, p: Preset): ResponseConfigInput {
  return { default: c.default, rules: c.rules, plan: p.plan, afterPlan: p.afterPlan, seed: c.seed, cors: c.cors };
}

/** A form with a preset's plan: the rest of the form (edits included) as it was. */
export function formWithPreset(f: ResponseForm, p: Preset): ResponseForm {
  return { ...f, plan: p.plan.map(stepToForm), afterPlan: p.afterPlan };
}

/** One line describing a step, e.g. "503 ×3, 30%, after 2 s". */
export function describeStep(s: PlanStep, def: ResponseSpec): string {
  const parts: string[] = [];
  if (s.fault === 'timeout') parts.push('hang (no answer)');
  else if (s.fault === 'reset') parts.push('reset the connection');
  else parts.push(String(s.status ?? def.status) + (s.status === undefined ? ' (default)' : ''));
  if (s.times && s.times > 1) parts.push(`×${s.times}`);
  if (s.probability !== undefined) parts.push(`${Math.round(s.probability * 1000) / 10}% of the time`);
  if (s.delayMs) parts.push(`after ${s.delayMs} ms`);
  if (s.match) {
    const m: string[] = [];
    if (s.match.method) m.push(s.match.method);
    if (s.match.pathPrefix) m.push(`${s.match.pathPrefix}*`);
    if (s.match.header) m.push(`${s.match.header.name}: ${s.match.header.value}`);
    parts.push(`only ${m.join(' ')}`);
  }
  return parts.join(', ');
}
