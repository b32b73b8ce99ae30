// Work on one key (a bin's settings, a webhook) done one at a time, in arrival order.
// A settings write checks If-Match, then awaits its store write: without this, a second write
// naming the same revision could pass its check meanwhile and silently replace the first.
// (Per process: on Redis, instances do not share it.)

export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Run `fn` once every earlier task on `key` has ended (settled either way). */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(fn, fn);
    const tail = result.then(
      () => {},
      () => {},
    );
    this.tails.set(key, tail);
    // Forgotten once idle: the map holds only keys with work under way.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work under way (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
