// Slots counted in total and per key (a client, say): connections, live sessions and waits
// each have a cap for the instance and one per client, so one client cannot take them all.

/** Which cap a refused take met. */
export type SlotRefusal = 'total' | 'key';

export class KeyedSlots {
  private total = 0;
  private readonly perKey = new Map<string, number>();

  constructor(
    readonly max: number,
    readonly maxPerKey: number,
  ) {}

  /** A slot for `key` (null: counted in the total only): its release (idempotent: only the first call counts), or which cap is reached. */
  take(key: string | null): (() => void) | SlotRefusal {
    if (this.total >= this.max) return 'total';
    const n = key === null ? 0 : (this.perKey.get(key) ?? 0);
    if (key !== null && n >= this.maxPerKey) return 'key';
    this.total++;
    if (key !== null) this.perKey.set(key, n + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.total--;
      if (key === null) return;
      const left = (this.perKey.get(key) ?? 1) - 1;
      if (left > 0) this.perKey.set(key, left);
      else this.perKey.delete(key);
    };
  }

  /** Slots held now. */
  get size(): number {
    return this.total;
  }

  /** Slots `key` holds now. */
  heldBy(key: string): number {
    return this.perKey.get(key) ?? 0;
  }
}
