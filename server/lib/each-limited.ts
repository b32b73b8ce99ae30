// Run an async step over items with at most `limit` in flight. Every step runs (or none starts
// after the first failure) and the call settles only when all started steps have; the first
// failure is then thrown, so no step is left running, nor any rejection unhandled.
export async function eachLimited<T>(items: Iterable<T>, limit: number, step: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  let failed = false;
  let first: unknown;
  const worker = async () => {
    for (let r = it.next(); !r.done && !failed; r = it.next()) {
      try {
        await step(r.value);
      } catch (err) {
        if (!failed) first = err;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (failed) throw first;
}
