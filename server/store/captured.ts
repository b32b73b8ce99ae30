// A stored capture read back whole (its record and its body), as the receiver handed it to the
// store: for waiters, forwards and re-checks that need both.
import type { CapturedRequest, Store } from './types.ts';

/** The capture with its body; null when it is gone (evicted or deleted meanwhile). Store read faults reject. */
export async function readCaptured(store: Store, binId: string, id: string): Promise<CapturedRequest | null> {
  const rec = await store.requests.get(binId, id);
  const body = rec && (await store.requests.body(binId, id));
  return rec && body ? { ...rec, body } : null;
}
