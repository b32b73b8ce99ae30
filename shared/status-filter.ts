// The `status` filter of a search, a wait and the UI's list: it matches what the sender got.
// One rule for the server and the client (no zod here: the client imports this).
import type { AnswerOutcome } from './api.ts';

/**
 * The status the sender got: none when a fault answered (no status), or when it hung up before
 * a delayed answer went (the capture's `answer.hungUpAfterMs`).
 */
export const statusGot = (r: { status: number | null; answer?: Pick<AnswerOutcome, 'hungUpAfterMs'> }): number | null =>
  r.answer?.hungUpAfterMs !== undefined ? null : r.status;

/** `want` ("500" or "5xx", trimmed, any case) against what the sender got. */
export function statusMatches(want: string, r: { status: number | null; answer?: Pick<AnswerOutcome, 'hungUpAfterMs'> }): boolean {
  const got = statusGot(r);
  if (got === null) return false;
  return want.toLowerCase().endsWith('xx') ? String(got)[0] === want[0] : String(got) === want;
}
