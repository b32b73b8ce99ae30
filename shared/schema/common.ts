// Building blocks for the API's schemas (zod). Every schema in shared/schema is the one source
// of the API's shape: the TypeScript types in shared/api.ts are inferred from them, the server
// validates with them, and the OpenAPI document is generated from them. The builders here set
// the messages a 400 shows ("must be from 200 to 599"), so they read the same everywhere.
import { z } from 'zod';

const TYPE_WORDS: Record<string, string> = {
  string: 'must be a string',
  number: 'must be a number',
  int: 'must be an integer',
  boolean: 'must be true or false',
  object: 'must be a JSON object',
  array: 'must be a list',
};

// The messages of schemas that set none of their own (zod's defaults read "Invalid input:
// expected string, received array"), in this API's words: a query parameter given twice
// arrives as a list (so does a list sent in a JSON body). Per-schema messages (the builders
// below) still come first.
z.config({
  customError: (iss) => {
    if (iss.code !== 'invalid_type') return undefined;
    if (iss.input === undefined) return 'is required';
    if (iss.expected === 'string' && Array.isArray(iss.input)) return 'must be one value, not a list (a query parameter given twice is one)';
    return TYPE_WORDS[iss.expected] ?? undefined;
  },
});

/** A JSON object with exactly these keys (unknown keys are refused: they are usually typos). */
export function obj<S extends z.ZodRawShape>(shape: S) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown field (allowed: ${allowed})` : typeError('must be a JSON object')(iss)),
  });
}

/** The type message, or "is required" when the field is missing. */
export const typeError = (what: string) => (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : what);

export const str = (max: number, min = 0) =>
  z
    .string({ error: typeError('must be a string') })
    .min(min, { error: min === 1 ? 'must not be empty' : `must be at least ${min} characters` })
    .max(max, { error: `must be at most ${max} characters` });

export const int = (min: number, max: number) =>
  z
    .int({ error: typeError('must be an integer') })
    .min(min, { error: `must be from ${min} to ${max}` })
    .max(max, { error: `must be from ${min} to ${max}` });

export const num = (min: number, max: number) =>
  z
    .number({ error: typeError('must be a number') })
    .min(min, { error: `must be from ${min} to ${max}` })
    .max(max, { error: `must be from ${min} to ${max}` });

export const bool = () => z.boolean({ error: typeError('must be true or false') });

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: typeError(`must be one of: ${values.join(', ')}`) });

export const list = <T extends z.ZodType>(item: T, max: number) =>
  z.array(item, { error: typeError('must be a list') }).max(max, { error: `at most ${max} entries` });

/** A number in a query string ("?limit=50"). */
export const qInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+$/, { error: 'must be an integer' })
    .transform(Number)
    .pipe(int(min, max));

export const qNum = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/, { error: 'must be a number' })
    .transform(Number)
    .pipe(num(min, max));

export const HeaderPair = z.tuple([z.string(), z.string()]).meta({ id: 'HeaderPair', description: 'One header as sent: original case; order and repeats kept in lists.' });

/** An RFC 3339 time, as every time in the API. */
export const time = () => z.string().meta({ format: 'date-time' });

// ----------------------------------------------------------------------------- errors

export const FieldError = z.object({ field: z.string(), message: z.string() }).meta({ id: 'FieldError' });

export const ApiError = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable, for programs: invalid_field, not_found, storage_unavailable, …' }),
      message: z.string().meta({ description: 'For people.' }),
      field: z.string().optional().meta({ description: 'The first bad field, as a path: plan[2].status' }),
      fields: z.array(FieldError).optional().meta({ description: 'Every bad field (400 invalid_field).' }),
    }),
  })
  .meta({ id: 'ApiError' });

export type FieldErrorT = z.infer<typeof FieldError>;

/** A zod issue path as the API names fields: plan[2].match.header.name */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

/** Every problem of a failed parse, one per field, in the order found. `root` names the whole. */
export function fieldErrors(error: z.ZodError, root = 'body'): FieldErrorT[] {
  const out: FieldErrorT[] = [];
  // A value of the wrong type ("x", or 1e20 for an integer: past the safe integers) fails the
  // range checks after it too: said once. Other rules on the field (a fault with a status) stay.
  const wrongType = new Set<string>();
  for (const iss of error.issues) {
    const at = fieldPath(iss.path);
    if (iss.code === 'unrecognized_keys') {
      // One entry per unknown key, named as the key itself.
      for (const k of iss.keys) out.push({ field: at ? `${at}.${k}` : k, message: iss.message });
    } else {
      const field = at || root;
      if (wrongType.has(field) && (iss.code === 'too_big' || iss.code === 'too_small')) continue;
      if (iss.code === 'invalid_type' || (iss as { origin?: string }).origin === 'int') wrongType.add(field);
      out.push({ field, message: iss.message });
    }
  }
  return out;
}
