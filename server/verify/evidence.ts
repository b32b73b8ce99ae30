// One request cannot tell a changed body from a wrong secret (an HMAC says only "no match").
// A bin's other captures can: if this scheme's secrets verified any of them, the secret is
// right and the bytes changed; if none ever verifies and several fail alike, the secret is wrong.
import type { VerificationT } from '../../shared/schema/verify.ts';

/** A result that shows the scheme's secret reproduces the sender's signatures. */
const provesSecret = (v: VerificationT) => v.status === 'valid' || v.status === 'expired' || (v.status === 'invalid' && v.details?.cause === 'reserialized_json');

/** Invalid for no reason found by trying: body_changed is only the default judgement there. */
const unexplained = (v: VerificationT) => v.status === 'invalid' && v.details?.cause === 'body_changed' && !v.details.matched;

/**
 * Refines body_changed into wrong_secret where a bin's captures show it. Pass all of the bin's
 * results computed with the SAME settings (scheme indexes must mean the same scheme). Returns a
 * new list; results it does not change are the same objects.
 */
export function refineCauses(results: readonly VerificationT[]): VerificationT[] {
  const proven = new Set<number>();
  const failing = new Map<number, number>();
  for (const v of results) {
    if (v.schemeIndex === undefined) continue;
    if (provesSecret(v)) proven.add(v.schemeIndex);
    else if (unexplained(v)) failing.set(v.schemeIndex, (failing.get(v.schemeIndex) ?? 0) + 1);
  }
  return results.map((v) => {
    if (!unexplained(v) || v.schemeIndex === undefined || !v.details) return v;
    const i = v.schemeIndex;
    if (proven.has(i)) {
      return { ...v, details: { ...v.details, message: "This scheme's secrets verify other captures of this bin, so the signed bytes changed after signing (the body, or the timestamp or id signed with it)." } };
    }
    const n = failing.get(i) ?? 0;
    if (n < 2) return v;
    return {
      ...v,
      details: { ...v.details, cause: 'wrong_secret', message: `None of this bin's captures verifies with this scheme's secrets (${n} fail alike): the sender most likely signs with another secret.` },
    };
  });
}
