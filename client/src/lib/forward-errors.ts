// A 400 on "Forward to…" in the form's terms. The API numbers the targets it got from 0, after
// the form dropped its blank rows; the form calls its rows "Target 1", "Target 2", … A message
// such as "is targets[1] again" would name another row than the one meant.
import type { FieldError } from '../../../shared/api.ts';

/**
 * `fields` as the form shows them: each field on the form's row (`targets[i]`, counting blank
 * rows), and a target named in a message as the form labels it ("Target 2"). `typed` is the
 * form's rows as typed (blank ones too).
 */
export function forwardFieldErrors(fields: readonly FieldError[], typed: readonly string[]): FieldError[] {
  const rows = typed.map((u, i) => (u.trim() ? i : -1)).filter((i) => i >= 0);
  const row = (n: string) => rows[Number(n)] ?? Number(n);
  return fields.map((f) => ({
    ...f,
    field: f.field.replace(/^targets\[(\d+)\]/, (_, n: string) => `targets[${row(n)}]`),
    message: f.message.replace(/\btargets\[(\d+)\]/g, (_, n: string) => `Target ${row(n) + 1}`),
  }));
}
