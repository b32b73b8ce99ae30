// Small, strict validators for API input. Each names the field it rejects, so a 400 says
// exactly what to fix; unknown keys are rejected too, to catch typos such as "stauts".
import { invalid } from './errors.ts';

export type Obj = Record<string, unknown>;

export function object(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(field, 'must be a JSON object');
  return v as Obj;
}

export function onlyKeys(o: Obj, allowed: readonly string[], field: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw invalid(field ? `${field}.${k}` : k, `unknown field (allowed: ${allowed.join(', ')})`);
  }
}

export function string(v: unknown, field: string, max: number, min = 0): string {
  if (typeof v !== 'string') throw invalid(field, 'must be a string');
  if (v.length < min) throw invalid(field, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
  if (v.length > max) throw invalid(field, `must be at most ${max} characters`);
  return v;
}

export function integer(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(field, 'must be an integer');
  if (v < min || v > max) throw invalid(field, `must be from ${min} to ${max}`);
  return v;
}

export function number(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(field, 'must be a number');
  if (v < min || v > max) throw invalid(field, `must be from ${min} to ${max}`);
  return v;
}

export function boolean(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw invalid(field, 'must be true or false');
  return v;
}

export function oneOf<T extends string>(v: unknown, field: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !values.includes(v as T)) throw invalid(field, `must be one of: ${values.join(', ')}`);
  return v as T;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// eslint-disable-next-line no-control-regex
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Headers the server sets itself; letting a plan set them would break HTTP framing. */
const RESERVED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'trailer']);

export function httpToken(v: unknown, field: string, max = 64): string {
  const s = string(v, field, max, 1);
  if (!TOKEN.test(s)) throw invalid(field, 'must be an HTTP token (letters, digits and !#$%&\'*+-.^_`|~)');
  return s;
}

/** A single header value: no control characters or line breaks, Latin-1 only. */
export function headerValue(v: unknown, field: string, max = 8192, min = 0): string {
  const s = string(v, field, max, min);
  if (!HEADER_VALUE.test(s)) throw invalid(field, 'must not contain control characters, line breaks or characters beyond Latin-1');
  return s;
}

export function headerMap(v: unknown, field: string, maxCount = 50, maxValue = 8192): Record<string, string> {
  const o = object(v, field);
  const keys = Object.keys(o);
  if (keys.length > maxCount) throw invalid(field, `at most ${maxCount} headers`);
  const out: Record<string, string> = {};
  for (const k of keys) {
    httpToken(k, `${field}.${k}`, 256);
    if (RESERVED.has(k.toLowerCase())) throw invalid(`${field}.${k}`, 'is set by the server and cannot be overridden');
    out[k] = headerValue(o[k], `${field}.${k}`, maxValue);
  }
  return out;
}
