// An instance's copy of per-bin settings kept in the store (forward targets, signature
// settings: the receiver asks for them on every capture, so they are held in memory). The copy
// is read again from the store when a note says a bin's settings changed, and wholly when
// notes may have been lost (see redis-cluster.ts). Reads may overlap (a note's reload while a
// whole reload runs, two notes about one bin): this keeps an older read from overwriting what
// a newer one applied, or what this instance itself set meanwhile (its own change is at least
// as new as the read; a later change elsewhere comes with a note of its own).
export class SettingsReads<V> {
  private seq = 0;
  private inFlight = 0;
  /** Per bin, the read applied last and what it left (only while reads are in flight). */
  private readonly applied = new Map<string, { seq: number; value: V | undefined }>();

  /** `copy`: the live copy (read here, written by the caller). */
  constructor(private readonly copy: Map<string, V>) {}

  /**
   * Read (`fetch`) for one bin (`scope`), or for all (null), then `use` the result: it applies
   * each bin's part through `apply(id, fn)`, which runs `fn` (which changes the copy of `id`)
   * unless a newer read was applied or the copy of `id` was changed here meanwhile.
   */
  async read<T>(scope: string | null, fetch: () => Promise<T>, use: (result: T, apply: (id: string, fn: () => void) => void) => void): Promise<void> {
    const seq = ++this.seq;
    const before = scope === null ? new Map(this.copy) : new Map([[scope, this.copy.get(scope)]]);
    this.inFlight++;
    try {
      const result = await fetch();
      use(result, (id, fn) => {
        const now = this.copy.get(id);
        const last = this.applied.get(id);
        if (last && last.seq > seq) return; // a newer read was applied
        if (now !== before.get(id) && !(last && now === last.value)) return; // changed here meanwhile
        fn();
        this.applied.set(id, { seq, value: this.copy.get(id) });
      });
    } finally {
      if (--this.inFlight === 0) this.applied.clear();
    }
  }
}
