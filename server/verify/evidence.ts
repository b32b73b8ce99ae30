// One request cannot tell a changed body from a wrong secret (an HMAC says only "no match").
// A bin's other captures can: if this scheme's secrets verified any of them, the secret is
// right and the bytes changed; if none ever verifies and several fail alike, the secret is wrong.
import type { VerificationT } from '../../shared/schema/verify.ts';

/** A result that shows the scheme's secret reproduces the sender's signatures. */
// A configured secret made the signature: it checked out, or did over other bytes or in another form.
const PROVING: ReadonlySet<string> = new Set(['reserialized_json', 'signature_encoding', 'signed_before_compression']);
const provesSecret = (v: VerificationT) => v.status === 'valid' || v.status === 'expired' || (v.status === 'invalid' && PROVING.has(v.details?.cause ?? ''));

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
  return results.map((v) => (v.schemeIndex === undefined ? v : refineOne(v, proven.has(v.schemeIndex), failing.get(v.schemeIndex) ?? 0)));
}

/** One result, given whether its scheme's secret is proven and how many of the bin's captures fail alike. */
function refineOne(v: VerificationT, proven: boolean, failing: number): VerificationT {
  if (!unexplained(v) || !v.details) return v;
  if (proven) {
    // Likely, not certain: two senders may share a bin's URL (a test and a live account) with
    // different secrets, and then this one's secret is simply not configured.
    const message =
      "This scheme's secrets verify other captures of this bin, so most likely the signed bytes changed after signing (the body, or the timestamp or id signed with it). " +
      'Unless this capture comes from another sender on the same URL (a test and a live account, say) that signs with a secret not configured here.';
    return { ...v, details: { ...v.details, message } };
  }
  if (failing < 2) return v;
  return {
    ...v,
    details: { ...v.details, cause: 'wrong_secret', message: `None of this bin's captures verifies with this scheme's secrets (${failing} fail alike): the sender most likely signs with another secret.` },
  };
}

/**
 * Ids kept per scheme and kind, the oldest dropped past it: one proof is as good as many, and a
 * bin whose evictions this process does not see (another instance's captures) stays bounded.
 */
const MAX_IDS = 100_000;

/** What a scheme's evidence says: its secret proven, likely wrong (two or more fail alike), or neither. */
type Verdict = 'proven' | 'wrong' | 'none';

/**
 * What a bin's captures have shown about each scheme's secrets since its settings were set, so
 * that captures checked as they arrive get the cause refineCauses would give them. Unknown until
 * a full re-check of the bin has been seen (`seed`): the bin may hold captures from before.
 * Kept by capture id, so that captures that leave the bin (deleted, cleared, evicted) stop
 * counting: a bin whose only valid capture was deleted proves its secret no more.
 */
export class SecretEvidence {
  /** Per scheme index: the captures that proved its secrets, and those that failed unexplained. */
  private readonly proven = new Map<number, Set<string>>();
  private readonly failing = new Map<number, Set<string>>();
  private known = false;
  /** Captures added while a re-check runs (see begin): its results may not include them. */
  /** By id: one that leaves meanwhile is dropped at once (evictions come with every capture at the cap). */
  private during: Map<string, VerificationT> | null = null;

  /** A re-check starts reading the bin: captures added from now on are kept for its seed. */
  begin(): void {
    this.during = new Map();
  }

  /**
   * A full re-check's results (all of the bin's captures, the same settings), by capture id.
   * Captures checked as they came while it ran count too, unless it checked them itself: it
   * read the bin's list when it began, so the newest were not in it. Answers those (their
   * results), for the re-check to refine its rows with them as well.
   */
  seed(results: readonly { id: string; v: VerificationT }[]): VerificationT[] {
    this.proven.clear();
    this.failing.clear();
    for (const r of results) this.count(r.v, r.id);
    const extra: { id: string; v: VerificationT }[] = [];
    if (this.during?.size) {
      const seen = new Set(results.map((r) => r.id));
      for (const [id, v] of this.during) if (!seen.has(id)) extra.push({ id, v });
    }
    for (const r of extra) this.count(r.v, r.id);
    this.during = null;
    this.known = true;
    return extra.map((r) => r.v);
  }

  /** The re-check that began ended without a seed (it failed, or stopped): keep nothing more. */
  abort(): void {
    this.during = null;
  }

  /**
   * A capture just checked: its result, refined with what is known, and whether captures
   * stored earlier need a re-check for their causes to agree (the evidence is not known yet,
   * or it has just turned: a second unexplained failure, a first success after failures).
   */
  add(v: VerificationT, id: string): { v: VerificationT; refresh: boolean } {
    const i = v.schemeIndex;
    if (i === undefined) return { v, refresh: false };
    this.during?.set(id, v);
    if (provesSecret(v)) {
      const turned = !this.isProven(i) && this.failures(i) >= 2;
      this.count(v, id);
      return { v, refresh: turned };
    }
    if (!unexplained(v)) return { v, refresh: false };
    this.count(v, id);
    const n = this.failures(i);
    if (!this.known) return { v, refresh: true };
    // With what is known, this one result is refined as a full re-check would refine it.
    return { v: refineOne(v, this.isProven(i), n), refresh: !this.isProven(i) && n === 2 };
  }

  /**
   * Captures left the bin ('all': it was cleared): they count no more. Answers whether the
   * captures it still holds need a re-check for their causes to agree: a scheme's evidence
   * turned (its last proof left, or failures fell below two), or a re-check is under way (its
   * results may hold the captures that left).
   */
  forget(ids: readonly string[] | 'all'): boolean {
    const running = this.during !== null;
    if (ids === 'all') {
      this.proven.clear();
      this.failing.clear();
      this.during?.clear();
      return running;
    }
    // Called for every capture that evicts one at a bin's cap: kept cheap (no sets made).
    if (this.during) for (const id of ids) this.during.delete(id);
    let turned = false;
    const visit = (i: number) => {
      const before = this.verdict(i);
      const p = this.proven.get(i);
      const f = this.failing.get(i);
      let touched = false;
      for (const id of ids) {
        if (p?.delete(id)) touched = true;
        if (f?.delete(id)) touched = true;
      }
      if (touched && this.verdict(i) !== before) turned = true;
    };
    for (const i of this.proven.keys()) visit(i);
    for (const i of this.failing.keys()) if (!this.proven.has(i)) visit(i);
    return (running && ids.length > 0) || (this.known && turned);
  }

  private isProven(i: number): boolean {
    return (this.proven.get(i)?.size ?? 0) > 0;
  }

  private failures(i: number): number {
    return this.failing.get(i)?.size ?? 0;
  }

  private verdict(i: number): Verdict {
    return this.isProven(i) ? 'proven' : this.failures(i) >= 2 ? 'wrong' : 'none';
  }

  private count(v: VerificationT, id: string) {
    const i = v.schemeIndex;
    if (i === undefined) return;
    const to = provesSecret(v) ? this.proven : unexplained(v) ? this.failing : null;
    if (!to) return;
    let ids = to.get(i);
    if (!ids) to.set(i, (ids = new Set()));
    ids.add(id);
    if (ids.size > MAX_IDS) ids.delete(ids.values().next().value!);
  }
}
