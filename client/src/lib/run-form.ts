// The run form's duration field: seconds as typed, checked here so "abc" or "-5" is refused at
// the field instead of silently starting a 20 s run, and a too-large value is said in seconds.

/** The server's limit on a run (RunInput.durationMs): 30 days. */
export const MAX_RUN_SECONDS = 30 * 86_400;

export type Parsed = { ok: true; ms: number | undefined } | { ok: false; message: string };

/** Blank: the server's default (20 s). Else a number of seconds from 0 to 30 days. */
export function parseRunSeconds(text: string): Parsed {
  const t = text.trim();
  if (t === '') return { ok: true, ms: undefined };
  if (!/^\d+(\.\d+)?$/.test(t)) return { ok: false, message: 'must be a number of seconds, 0 or more (e.g. 20 or 1.5)' };
  const secs = Number(t);
  if (secs > MAX_RUN_SECONDS) return { ok: false, message: `must be at most ${MAX_RUN_SECONDS.toLocaleString('en-US')} seconds (30 days)` };
  return { ok: true, ms: Math.round(secs * 1000) };
}
