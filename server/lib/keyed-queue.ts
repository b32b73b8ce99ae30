// Work on one key (a bin's settings, a webhook) done one at a time, in arrival order.
// A settings write checks If-Match, then awaits its store write: without this, a second write
// naming the same revision could pass its check meanwhile and silently replace the first.
// (Per process: on Redis, instances do not share it.)

/** More tasks on one key than the queue takes (see KeyedQueue's maxPerKey). */
export class QueueFullError extends Error {}

export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  /** Tasks on each key not yet ended (running or waiting). */
  private readonly counts = new Map<string, number>();

  /** maxPerKey: tasks on one key at once, the running one included; past it, run() rejects with QueueFullError. */
  constructor(readonly maxPerKey = Infinity) {}

  /** Run `fn` once every earlier task on `key` has ended (settled either way). `always`: past maxPerKey too (a removal that must not be refused). */
  run<T>(key: string, fn: () => Promise<T>, always = false): Promise<T> {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.maxPerKey && !always) return Promise.reject(new QueueFullError(`${n} changes to this are under way or waiting`));
    this.counts.set(key, n + 1);
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(fn, fn);
    const tail = result.then(
      () => {},
      () => {},
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left > 0) this.counts.set(key, left);
      else this.counts.delete(key);
      // Forgotten once idle: the maps hold only keys with work under way.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Tasks on `key` running or waiting. */
  pending(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Keys with work under way (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
