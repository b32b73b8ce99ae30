// Settings of bins that no longer exist: a stop between a bin's deletion (on disk before its
// 204) and its settings' (the next write) left them. Dropped at start-up, before they are
// loaded, so a bin made later with the same id does not inherit a deleted bin's answers,
// forward targets or signing secrets.
import type { Store } from '../store/types.ts';

/** Drop them; answers how many. */
export async function dropOrphanSettings(store: Store): Promise<number> {
  const collections = [store.responses, store.forwards, store.verifications];
  // Settings read before the bins: a bin made meanwhile (on another instance) is in the list.
  const settings = await Promise.all(collections.map((c) => c.list()));
  const bins = new Set((await store.bins.list()).map((b) => b.id));
  let dropped = 0;
  for (let i = 0; i < collections.length; i++) {
    for (const s of settings[i]) {
      if (bins.has(s.id)) continue;
      // Asked again just before: on Redis another instance may have made the bin since the list.
      if (await store.bins.get(s.id)) continue;
      if (await collections[i].delete(s.id)) dropped++;
    }
  }
  return dropped;
}
