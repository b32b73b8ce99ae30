// What an instance reloads when notes from other instances may have been lost (see
// redis-cluster.ts): every copy of the store that only notes keep fresh.
import type { RedisStore } from '../store/redis/redis-store.ts';

export interface NotedCopies {
  /** Forward targets (Forwarder.load: all bins, dropping those gone). */
  forwarder: { load(): Promise<void> };
  /** Signature settings (Verifier.load: likewise). */
  verifier: { load(): Promise<void> };
  /** Response settings, for what is read without Redis (cors, needsBody): per bin. */
  control: { refresh(binId: string): Promise<void> };
}

/** Reload them all from the store; rejects when a read fails (the caller retries). */
export async function reloadCopies(store: RedisStore, c: NotedCopies): Promise<void> {
  // The bins the receiver found lately: read again at their next capture.
  store.bins.forgetAll();
  const bins = await store.bins.list();
  // (A response setting of a bin gone stays unread: its captures are refused 404 anyway.)
  await Promise.all([c.forwarder.load(), c.verifier.load(), ...bins.map((b) => c.control.refresh(b.id))]);
}
