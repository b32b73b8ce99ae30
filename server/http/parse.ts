// Validate API input against its schema (shared/schema). A failure is one 400 listing every
// bad field at once (`error.fields`), the first also as `error.field`; nothing is stored.
import type { z } from 'zod';
import { fieldErrors } from '../../shared/schema/common.ts';
import { HttpError } from './errors.ts';

export function parse<S extends z.ZodType>(schema: S, value: unknown, root = 'body'): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const fields = fieldErrors(r.error, root);
  const message = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  throw new HttpError(400, 'invalid_field', message, fields[0]?.field, fields);
}
