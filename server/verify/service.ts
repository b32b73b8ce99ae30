// Runs the verification engine on captures, off the capture path: the receiver hands each
// capture of a bin with verify settings over and answers at once; checks run a moment later
// in batches, and their results are stored with the capture (its list row shows a badge).
// Changing a bin's settings re-checks what it holds.
import type { VerificationT, VerifySettingsT } from '../../shared/schema/verify.ts';
import type { RequestItem } from '../../shared/api.ts';
import { randomUUID } from 'node:crypto';
import type { Annotations, CapturedRequest, Store, StoredVerify } from '../store/types.ts';
import { idempotencyKey, refineCauses, secretKeys, type SecretKeys, verify } from './index.ts';

export interface VerifierDeps {
  store: Store;
  /** A capture's check was stored (tell watchers: its list row changed). */
  onChecked?: (item: RequestItem) => void;
}

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
  private queue: CapturedRequest[] = [];
  private scheduled = false;

  constructor(private readonly d: VerifierDeps) {}

  async load(): Promise<void> {
    for (const v of await this.d.store.verifications.list()) this.keep(v);
  }

  /** Another instance changed this bin's settings: read them again (it re-checked the captures). */
  async reload(binId: string): Promise<void> {
    const v = await this.d.store.verifications.get(binId);
    if (v) this.keep(v);
    else this.drop(binId);
  }

  private keep(v: StoredVerify) {
    this.settings.set(v.id, v.settings);
    this.keys.set(v.id, secretKeys(v.settings));
    this.revs.set(v.id, v.rev ?? '');
  }

  private drop(binId: string) {
    this.settings.delete(binId);
    this.keys.delete(binId);
    this.revs.delete(binId);
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

  async set(binId: string, settings: VerifySettingsT | null): Promise<number> {
    if (settings) {
      const v: StoredVerify = { id: binId, settings, rev: randomUUID() };
      await this.d.store.verifications.put(v);
      this.keep(v);
    } else {
      await this.d.store.verifications.delete(binId);
      this.drop(binId);
    }
    return this.recheck(binId);
  }

  /** A capture was stored: check it soon (not now: the sender is waiting for its answer). */
  captured(r: CapturedRequest): void {
    if (!this.settings.has(r.binId)) return;
    this.queue.push(r);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.drain());
    }
  }

  private async drain() {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const r of batch) await this.store(r.binId, r.id, this.check(r.binId, r.headers, r.body, r.truncated, r.receivedAt), null);
  }

  /** The capture's arrival time is "now" for timestamp tolerances: a re-check months later agrees. */
  private check(binId: string, headers: readonly string[], body: Buffer, truncated: boolean, receivedAt: string): VerificationT {
    return verify(this.settings.get(binId), { headers, body, truncated }, Date.parse(receivedAt), this.keys.get(binId));
  }

  /** Store a check (and, on a re-check, the key under the new settings; null: keep it). */
  private async store(binId: string, id: string, v: VerificationT, key: ReturnType<typeof idempotencyKey> | null) {
    // Without settings there is nothing to show: drop an earlier badge rather than say "unchecked".
    const verification = this.settings.has(binId) ? v : undefined;
    const change: Partial<Annotations> = { verification };
    if (key) change.idempotency = key;
    const item = await this.d.store.requests.annotate(binId, id, () => change);
    if (item) this.d.onChecked?.(item);
  }

  /** Check everything a bin holds again (its settings changed); answers how many. */
  async recheck(binId: string): Promise<number> {
    const items = await this.d.store.requests.items(binId, { limit: Number.MAX_SAFE_INTEGER, oldestFirst: true });
    const results: { id: string; v: VerificationT; key: ReturnType<typeof idempotencyKey> }[] = [];
    for (const item of items) {
      const meta = await this.d.store.requests.get(binId, item.id);
      const body = meta && (await this.d.store.requests.body(binId, item.id));
      if (!meta || !body) continue;
      results.push({ id: item.id, v: this.check(binId, meta.headers, body, meta.truncated, meta.receivedAt), key: this.keyOf(binId, { headers: meta.headers, body }) });
    }
    // Seen together, failures tell more (a secret no capture matches is likely wrong).
    const refined = refineCauses(results.map((x) => x.v));
    for (let i = 0; i < results.length; i++) await this.store(binId, results[i].id, refined[i], results[i].key);
    return results.length;
  }

  /** The bin is gone: its settings go too (nothing to re-check). */
  async forget(binId: string): Promise<void> {
    this.drop(binId);
    await this.d.store.verifications.delete(binId);
  }
}
