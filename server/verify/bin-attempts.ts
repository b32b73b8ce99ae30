// A bin's captures grouped by idempotency key, for the list ("attempt 3 of msg_…") and the
// detail (the other captures with the same key, and whether the sender changes its key on
// retries). Body hashes are computed once per capture and remembered.
import type { Store } from '../store/types.ts';
import { type AttemptGroups, bodySha256, groupAttempts, type KeyedCapture } from './attempts.ts';

/** Hashes remembered (bin/id -> sha): a bounded map, the oldest go first. */
const MAX_HASHES = 100_000;

export class BinAttempts {
  private readonly hashes = new Map<string, string>();

  constructor(private readonly store: Store) {}

  /** The bin's groups; `receivedAt` of each keyed capture, and how many carry no key. */
  async of(binId: string): Promise<AttemptGroups & { receivedAt: Map<string, string>; unkeyed: number }> {
    const items = await this.store.requests.items(binId, { limit: Number.MAX_SAFE_INTEGER, oldestFirst: true });
    const keyed: KeyedCapture[] = [];
    const receivedAt = new Map<string, string>();
    let unkeyed = 0;
    for (const it of items) {
      if (!it.idempotencyKey) {
        unkeyed++;
        continue;
      }
      // A cut body is no proof of sameness: two events that share their first MAX_BODY_BYTES
      // would hash alike. It keeps its key and attempt, out of the body comparison.
      if (it.truncated) {
        keyed.push({ id: it.id, key: it.idempotencyKey, bodySha256: null });
        receivedAt.set(it.id, it.receivedAt);
        continue;
      }
      const k = `${binId}/${it.id}`;
      let sha = this.hashes.get(k);
      if (!sha) {
        const body = await this.store.requests.body(binId, it.id);
        if (!body) continue;
        sha = bodySha256(body);
        this.hashes.set(k, sha);
        if (this.hashes.size > MAX_HASHES) this.hashes.delete(this.hashes.keys().next().value!);
      }
      keyed.push({ id: it.id, key: it.idempotencyKey, bodySha256: sha });
      receivedAt.set(it.id, it.receivedAt);
    }
    return { ...groupAttempts(keyed), receivedAt, unkeyed };
  }
}
