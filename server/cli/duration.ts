// Durations on the command line (--timeout, --give-up): a number with its unit, 30s, 500ms,
// 2m or 8h (a relay left running over a working day). A bare number is refused rather than guessed at: the API reads one as milliseconds, so
// `--timeout 30` would wait 30 ms where seconds were almost surely meant.
import { CliError, EXIT } from './client.ts';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Milliseconds of a duration given to `flag`; a CliError (exit 2) when it is not one. */
export function durationMs(value: string, flag: string, examples = '30s, 500ms or 2m'): number {
  const s = value.trim();
  if (/^\d+(\.\d+)?$/.test(s)) throw new CliError(`${flag} ${s} has no unit: write ${s}s, ${s}ms or ${s}m`, EXIT.usage);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s);
  if (!m) throw new CliError(`${flag} must be a duration such as ${examples}, got "${value}"`, EXIT.usage);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
}
