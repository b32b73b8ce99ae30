// Runs the verification engine on captures, off the answer path: the receiver hands each
// capture of a bin with verify settings over and answers; checks run at the end of the turn in
// a batch, and their results are stored with the capture (its list row shows a badge).
// Changing a bin's settings re-checks what it holds.
import { hasVerifySettings, type VerificationT, type VerifySettingsT } from '../../shared/schema/verify.ts';
import type { RequestItem } from '../../shared/api.ts';
import { randomUUID } from 'node:crypto';
import type { Annotations, CapturedRequest, Store, StoredVerify } from '../store/types.ts';
import { SecretEvidence } from './evidence.ts';
import { idempotencyKey, refineCauses, secretKeys, type SecretKeys, verify } from './index.ts';
import { SettingsReads } from '../cluster/settings-copy.ts';

/** Larger bodies are checked after their turn's live events have left (see Verifier.captured). */
const CHECK_IN_TURN_MAX_BYTES = 64 * 1024;

/** Settings that check signatures (settings may only name where the idempotency key is). */
const checksSignatures = (s: VerifySettingsT | undefined): boolean => s !== undefined && s.schemes.length > 0;

export interface VerifierDeps {
  store: Store;
  /** A capture's check was stored (tell watchers: its list row changed). */
  onChecked?: (item: RequestItem) => void;
  /** A re-check after a settings change failed (it is tried again: see recheckAfterChange). */
  onRecheckFailed?: (binId: string, err: unknown, retryInMs: number) => void;
  /** Waits before retrying a failed re-check: the first, doubled each time up to the last (default 1 s to 60 s). */
  recheckRetryMs?: { first: number; max: number };
}

/** What a settings change's re-check did: how many captures, or why it could not (yet). */
export type RecheckOutcome = { rechecked: number } | { rechecked: null; recheckError: string };

export class Verifier {
  /** Each bin's settings, in memory: the receiver asks on every capture. */
  private readonly settings = new Map<string, VerifySettingsT>();
  /** Each bin's secrets as ready HMAC keys, made when its settings are (see secretKeys). */
  private readonly keys = new Map<string, SecretKeys>();
  /**
   * Each bin's revision: new on every write. Answers show secrets only as hints, so two
   * different secrets can look alike; the revision tells them apart (see revisionOf).
   */
  private readonly revs = new Map<string, string>();
  /**
   * Each bin's settings generation: a re-check started under older settings stops rather than
   * store verdicts of two settings mixed (a second PUT while the first one's re-check runs).
   */
  private readonly gens = new Map<string, number>();
  private nextGen = 0;
  /** Each bin's re-checks, one after another (see recheck). */
  private readonly rechecks = new Map<string, Promise<number>>();
  /** Bins whose stored causes need a re-check (see SecretEvidence), not yet started. */
  private readonly refreshing = new Set<string>();
  /** What each bin's captures showed about its secrets (see SecretEvidence). */
  private readonly evidence = new Map<string, SecretEvidence>();
  private queue: CapturedRequest[] = [];
  /** Captures with a large body, checked a turn later (see captured). */
  private later: CapturedRequest[] = [];
  private scheduled = false;

  constructor(private readonly d: VerifierDeps) {}

  /**
   * Read every bin's settings: at start, and again (on Redis) whenever notes from other
   * instances may have been lost (see cluster/redis-cluster.ts): bins whose settings are gone
   * from the store are dropped. Reads never undo a newer one (see SettingsReads).
   */
  async load(): Promise<void> {
    await this.reads.read(null, () => this.d.store.verifications.list(), (all, apply) => {
      const listed = new Set<string>();
      for (const v of all) {
        listed.add(v.id);
        apply(v.id, () => this.take(v.id, v));
      }
      for (const id of [...this.settings.keys()]) if (!listed.has(id)) apply(id, () => this.drop(id));
    });
  }

  /** Another instance changed this bin's settings: read them again (it re-checked the captures). */
  async reload(binId: string): Promise<void> {
    await this.reads.read(binId, () => this.d.store.verifications.get(binId), (v, apply) => apply(binId, () => this.take(binId, v)));
  }

  /** Settings read from the store (undefined: none). */
  private take(binId: string, v: StoredVerify | undefined) {
    // The same revision (a note about the bin, not its settings): what it showed still counts.
    if (v && this.settings.has(binId) && (v.rev ?? '') === this.revs.get(binId)) return;
    if (v) this.keep(v);
    else this.drop(binId);
  }

  /** Orders load() and reload() (see SettingsReads). */
  private readonly reads = new SettingsReads(this.settings);

  private keep(v: StoredVerify) {
    this.settings.set(v.id, v.settings);
    this.keys.set(v.id, secretKeys(v.settings));
    this.revs.set(v.id, v.rev ?? '');
    this.changed(v.id);
  }

  private drop(binId: string) {
    this.stopRetry(binId);
    this.settings.delete(binId);
    this.keys.delete(binId);
    this.revs.delete(binId);
    // No generation either (a re-check under way sees one different from its own and stops).
    this.gens.delete(binId);
    this.evidence.delete(binId);
  }

  /** New settings: what the old ones showed no longer counts (nor a retry of their re-check). */
  private changed(binId: string) {
    this.stopRetry(binId);
    this.gens.set(binId, ++this.nextGen);
    this.evidence.delete(binId);
  }

  /** The settings' revision ('' when none are set), for their ETag. */
  revisionOf(binId: string): string {
    return this.revs.get(binId) ?? '';
  }

  get(binId: string): VerifySettingsT | undefined {
    return this.settings.get(binId);
  }

  /** The sender's idempotency key, for the capture path (a header scan; cheap). */
  keyOf(binId: string, r: { headers: readonly string[]; body: Buffer }) {
    return idempotencyKey(this.settings.get(binId), r);
  }

  /** Replace a bin's settings (null, or settings that name nothing: off) and re-check what it holds. */
  async set(binId: string, settings: VerifySettingsT | null): Promise<number> {
    await this.save(binId, settings);
    return this.recheck(binId);
  }

  /** Replace a bin's settings, stored and in force (a new revision), without the re-check. */
  async save(binId: string, settings: VerifySettingsT | null): Promise<void> {
    if (settings && hasVerifySettings(settings)) {
      const v: StoredVerify = { id: binId, settings, rev: randomUUID() };
      await this.d.store.verifications.put(v);
      this.keep(v);
    } else {
      await this.d.store.verifications.delete(binId);
      this.drop(binId);
    }
  }

  /**
   * A capture was stored: check it at the end of this turn, after the answers (the sender is
   * waiting for its own). The receiver calls this before it queues the capture's live event,
   * so the check runs before that event leaves (both wait for setImmediate, first come first
   * run): its verdict then goes out in the capture's own event (see LiveBus.requestUpdated)
   * rather than in an update per capture, which cost more than the check itself. (When the
   * turn's live events were queued first, by another bin's capture say, the verdicts follow as
   * updates.) A body over CHECK_IN_TURN_MAX_BYTES is checked a turn later, its verdict sent as
   * an update: its HMAC would hold up the live events of the whole turn.
   */
  captured(r: CapturedRequest): void {
    if (!checksSignatures(this.settings.get(r.binId))) return;
    (r.body.length <= CHECK_IN_TURN_MAX_BYTES ? this.queue : this.later).push(r);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain() {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    this.checkAll(batch);
    if (this.later.length) {
      const large = this.later;
      this.later = [];
      // Scheduled from the check phase: runs in the next one, after this turn's live events.
      setImmediate(() => this.checkAll(large));
    }
  }

  private checkAll(batch: CapturedRequest[]) {
    // Together, at the end of the turn: checking each capture right after its answer, amid the
    // rest of its work, measured ~15 us more CPU per capture (the crypto's code and state fall
    // out of the CPU's caches in between, likely).
    const verdicts = batch.map((r) => this.check(r.binId, r.headers, r.body, r.truncated, r.receivedAt));
    // Not awaited one by one: the local stores store at once (their live updates follow within
    // this turn's microtasks, before its live events leave); Redis takes them pipelined.
    // Not stored (the store is down): the capture keeps no badge; a settings change re-checks.
    for (let i = 0; i < batch.length; i++) {
      const binId = batch[i].binId;
      // The schemes were turned off since it came (their re-check took the badges away): none.
      if (!checksSignatures(this.settings.get(binId))) continue;
      let v = verdicts[i];
      // Judged with what the bin's other captures showed (see SecretEvidence). A bin this
      // process has seen nothing of yet (since it started) gets its evidence made here.
      // A success may be the first since captures were judged "wrong_secret" (before a
      // restart, or on another instance): look for such badges among the stored rows.
      if (!this.evidence.has(binId) && v.status === 'valid') this.probe(binId);
      const e = this.evidenceOf(binId);
      const r = e.add(v, batch[i].id);
      v = r.v;
      if (r.refresh) this.refresh(binId);
      this.store(binId, batch[i].id, { verification: v }).catch(ignore);
    }
  }

  private evidenceOf(binId: string): SecretEvidence {
    let e = this.evidence.get(binId);
    if (!e) this.evidence.set(binId, (e = new SecretEvidence()));
    return e;
  }

  /** Re-check the bin if a stored row says "wrong_secret" (list rows only: no bodies read). */
  private probe(binId: string) {
    void this.d.store.requests
      .items(binId, { limit: Number.MAX_SAFE_INTEGER })
      .then((items) => {
        if (items.some((it) => it.verification?.cause === 'wrong_secret')) this.refresh(binId);
      })
      .catch(ignore);
  }

  /** Re-check a bin's captures so that their causes agree with all of them (see SecretEvidence); one waiting at a time. */
  private refresh(binId: string) {
    if (this.refreshing.has(binId)) return;
    this.refreshing.add(binId);
    void this.recheck(binId, () => this.refreshing.delete(binId)).catch(ignore);
  }

  /** The capture's arrival time is "now" for timestamp tolerances: a re-check months later agrees. */
  private check(binId: string, headers: readonly string[], body: Buffer, truncated: boolean, receivedAt: string): VerificationT {
    return verify(this.settings.get(binId), { headers, body, truncated }, this.parseIso(receivedAt), this.keys.get(binId));
  }

  /** Date.parse, remembering the last answer: captures of a burst share their millisecond. */
  private parseIso(iso: string): number {
    if (iso !== this.lastIso) {
      this.lastIso = iso;
      this.lastMs = Date.parse(iso);
    }
    return this.lastMs;
  }
  private lastIso = '';
  private lastMs = NaN;

  /** Store a capture's check (and, on a re-check, its key). */
  private store(binId: string, id: string, change: Partial<Annotations>): Promise<void> {
    return this.d.store.requests.annotate(binId, id, () => change).then(this.stored);
  }

  private readonly stored = (item: RequestItem | null) => {
    if (item) this.d.onChecked?.(item);
  };

  /**
   * Check everything a bin holds again (its settings changed, or its evidence turned); answers
   * how many. A bin's re-checks run one after another; one whose settings were replaced while
   * it ran stops (the next one, under the new settings, does it all).
   */
  recheck(binId: string, onStart?: () => void): Promise<number> {
    const before = this.rechecks.get(binId);
    const run = (before ?? Promise.resolve(0)).catch(() => 0).then(() => {
      onStart?.();
      return this.recheckNow(binId);
    });
    this.rechecks.set(binId, run);
    const done = () => {
      if (this.rechecks.get(binId) === run) this.rechecks.delete(binId);
    };
    run.then(done, done);
    return run;
  }

  /**
   * The re-check after a settings change, for its caller's answer. The settings are saved by
   * then, so a store that cannot be read (a disk fault, Redis away) does not fail the change:
   * the answer says why the stored captures keep their old verdicts for now, and the re-check
   * is tried again in the background (waits doubling to a minute) until it runs through or
   * newer settings replace these (their own re-check does it all).
   */
  async recheckAfterChange(binId: string): Promise<RecheckOutcome> {
    // This change's retry chain, from now: a newer change or the bin's removal ends it.
    const chain = {};
    this.stopRetry(binId);
    this.retries.set(binId, chain);
    try {
      const rechecked = await this.recheck(binId);
      if (this.retries.get(binId) === chain) this.retries.delete(binId);
      return { rechecked };
    } catch (err) {
      if (this.retries.get(binId) === chain) this.retryRecheck(binId, err, this.d.recheckRetryMs?.first ?? 1000, chain);
      return { rechecked: null, recheckError: `the stored captures could not be checked again (${errorText(err)}); they keep their earlier verdicts until a retry in the background gets through` };
    }
  }

  /**
   * One retry chain per bin: a settings change (here or read from another instance) or the
   * bin's removal ends it (the change's own re-check does the work, or there is none to do).
   */
  private retryRecheck(binId: string, err: unknown, waitMs: number, chain: { timer?: NodeJS.Timeout }) {
    if (this.closed) return;
    this.d.onRecheckFailed?.(binId, err, waitMs);
    const max = this.d.recheckRetryMs?.max ?? 60_000;
    const current = () => this.retries.get(binId) === chain;
    chain.timer = setTimeout(() => {
      if (!current()) return;
      this.recheck(binId).then(
        () => {
          if (current()) this.retries.delete(binId);
        },
        (again: unknown) => {
          if (current()) this.retryRecheck(binId, again, Math.min(waitMs * 2, max), chain);
        },
      );
    }, waitMs).unref();
  }
  /** Each bin's retry chain (see retryRecheck). */
  private readonly retries = new Map<string, { timer?: NodeJS.Timeout }>();
  private closed = false;

  private stopRetry(binId: string) {
    const chain = this.retries.get(binId);
    if (!chain) return;
    clearTimeout(chain.timer);
    this.retries.delete(binId);
  }

  /** The app is closing: no more retries (their store is going). */
  close(): void {
    this.closed = true;
    for (const chain of this.retries.values()) clearTimeout(chain.timer);
    this.retries.clear();
  }

  private async recheckNow(binId: string): Promise<number> {
    const gen = this.gens.get(binId);
    const current = () => this.gens.get(binId) === gen;
    const settings = this.settings.get(binId);
    const checks = checksSignatures(settings);
    // Captures checked as they come while this runs count in the evidence it seeds (see begin).
    if (!checks) return this.recheckRows(binId, current, false);
    const e = this.evidenceOf(binId);
    e.begin();
    try {
      return await this.recheckRows(binId, current, true, e);
    } finally {
      // Not seeded (the store failed, or newer settings stopped it): nothing more is kept.
      e.abort();
    }
  }

  private async recheckRows(binId: string, current: () => boolean, checks: boolean, e?: SecretEvidence): Promise<number> {
    const items = await this.d.store.requests.items(binId, { limit: Number.MAX_SAFE_INTEGER, oldestFirst: true });
    const results: { id: string; v: VerificationT; was: string; key: ReturnType<typeof idempotencyKey>; keyChanged: boolean }[] = [];
    for (const item of items) {
      if (!current()) return items.length;
      const meta = await this.d.store.requests.get(binId, item.id);
      const body = meta && (await this.d.store.requests.body(binId, item.id));
      if (!meta || !body || !current()) continue;
      const key = this.keyOf(binId, { headers: meta.headers, body });
      const keyChanged = key?.key !== meta.idempotency?.key || key?.source !== meta.idempotency?.source;
      const was = meta.verification === undefined ? '' : JSON.stringify(meta.verification);
      results.push({ id: item.id, v: this.check(binId, meta.headers, body, meta.truncated, meta.receivedAt), was, key, keyChanged });
    }
    if (!current()) return items.length;
    const raw = results.map((x) => x.v);
    // Captures checked while this ran (not in `items`) tell as much about the secrets.
    const extra = e ? e.seed(results) : [];
    // Seen together, failures tell more (a secret no capture matches is likely wrong).
    const refined = extra.length ? refineCauses([...raw, ...extra]).slice(0, raw.length) : refineCauses(raw);
    for (let i = 0; i < results.length; i++) {
      if (!current()) break;
      // Without a scheme there is nothing to show: drop an earlier badge rather than say
      // "unchecked". A key the old settings named may be gone: then it goes too.
      const verification = checks ? refined[i] : undefined;
      // Unchanged (most rows of a re-check after one turn of the evidence): no write, no event.
      const same = (verification === undefined ? '' : JSON.stringify(verification)) === results[i].was;
      if (same && !results[i].keyChanged) continue;
      const change: Partial<Annotations> = { verification };
      if (results[i].keyChanged) change.idempotency = results[i].key ?? undefined;
      await this.store(binId, results[i].id, change);
    }
    return results.length;
  }

  /**
   * Captures left a bin (deleted, cleared: 'all', or evicted): what they showed about its
   * secrets counts no more, and when that turns the picture (its only valid capture deleted,
   * say) the captures it still holds are judged again, so that none keeps a cause that rested
   * on a capture no longer there.
   */
  gone(binId: string, ids: readonly string[] | 'all'): void {
    const e = this.evidence.get(binId);
    if (e?.forget(ids)) this.refresh(binId);
  }

  /** The bin is gone: its settings go too (nothing to re-check). */
  async forget(binId: string): Promise<void> {
    this.drop(binId);
    await this.d.store.verifications.delete(binId);
  }
}

const ignore = () => {};
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
