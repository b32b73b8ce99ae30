// A signed timestamp's tolerance in words, for the verdict's message (server) and the signature
// panel (client): Stripe's libraries refuse only a timestamp too old, the others one off either way.
// Free of zod: the client bundle imports it.
import type { SchemeTypeT } from './schema/verify.ts';

/** Schemes whose libraries refuse only a timestamp older than the tolerance (Stripe's accept one from the future). */
export const pastOnlyTolerance = (scheme: SchemeTypeT | undefined): boolean => scheme === 'stripe';

/** A scheme's tolerance in words, `duration` written by the caller: "±5 min", or "5 min in the past (…)". */
export const toleranceWords = (scheme: SchemeTypeT | undefined, duration: string): string =>
  pastOnlyTolerance(scheme) ? `${duration} in the past (a timestamp from the future passes)` : `±${duration}`;
