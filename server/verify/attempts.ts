// Captures grouped by idempotency key ("attempt 3 of msg_…"), and senders whose retries carry a
// new key each time: the same body under different keys defeats a receiver's de-duplication.
import { createHash } from 'node:crypto';
import type { AttemptInfoT } from '../../shared/schema/verify.ts';

export interface KeyedCapture {
  id: string;
  /** From idempotencyKey(); null when the capture has none. */
  key: string | null;
  /**
   * Hex SHA-256 of the raw body (bodySha256()); null when the stored body is cut
   * (MAX_BODY_BYTES): a prefix cannot show two bodies are the same, so it is not compared.
   */
  bodySha256: string | null;
}

export interface KeyChurn {
  bodySha256: string;
  /** The captures with this body (and a key), by arrival. */
  ids: string[];
  /** Their distinct keys, in order of first appearance. */
  keys: string[];
}

export interface AttemptGroups {
  /** Keyed captures only. */
  byId: Map<string, AttemptInfoT>;
  /** One per key, in order of first arrival; ids by arrival (attempt n is ids[n - 1]). */
  groups: { key: string; ids: string[] }[];
  /** Bodies that arrived under more than one key. */
  keyChurn: KeyChurn[];
}

export const bodySha256 = (body: Buffer): string => createHash('sha256').update(body).digest('hex');

/**
 * Bodies that tell no event from another: different events with the same empty body (pings,
 * GET callbacks) are no retries, so they never count as a sender changing keys.
 */
const UNTELLING = new Set(['', '{}', '[]', 'null'].map((b) => bodySha256(Buffer.from(b))));

/** `captures` in arrival order (oldest first), e.g. one bin's. */
export function groupAttempts(captures: readonly KeyedCapture[]): AttemptGroups {
  const byKey = new Map<string, string[]>();
  const byBody = new Map<string, { ids: string[]; keys: string[] }>();
  for (const c of captures) {
    if (c.key === null) continue;
    const ids = byKey.get(c.key);
    if (ids) ids.push(c.id);
    else byKey.set(c.key, [c.id]);
    if (c.bodySha256 === null || UNTELLING.has(c.bodySha256)) continue;
    const b = byBody.get(c.bodySha256);
    if (!b) byBody.set(c.bodySha256, { ids: [c.id], keys: [c.key] });
    else {
      b.ids.push(c.id);
      if (!b.keys.includes(c.key)) b.keys.push(c.key);
    }
  }

  const keyChurn: KeyChurn[] = [];
  const churned = new Set<string>();
  for (const [sha, b] of byBody) {
    if (b.keys.length < 2) continue;
    keyChurn.push({ bodySha256: sha, ids: b.ids, keys: b.keys });
    for (const id of b.ids) churned.add(id);
  }

  const byId: AttemptGroups['byId'] = new Map();
  const groups: AttemptGroups['groups'] = [];
  for (const [key, ids] of byKey) {
    groups.push({ key, ids });
    ids.forEach((id, n) => byId.set(id, { key, attempt: n + 1, attempts: ids.length, keyChurn: churned.has(id) }));
  }
  return { byId, groups, keyChurn };
}
