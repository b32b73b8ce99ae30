// Per id, what live events said while a read was out. A read is a snapshot taken somewhere on
// its way: an event that came meanwhile may be newer than the read's copy (or about something
// the read did not see: made, or deleted, after it), so its answer is merged with them.

export interface LiveDuring<T> {
  /** Note a live event's value for `id` (kept only while some read is out). */
  note(id: string, value: T): void;
  /** Run a read; answers it with the latest value each id had in the events that came while it was out. */
  read<R>(call: () => Promise<R>): Promise<{ answer: R; during: Map<string, T> }>;
}

export function liveDuring<T>(): LiveDuring<T> {
  let seq = 0;
  let out = 0;
  const seen = new Map<string, { value: T; seq: number }>();
  return {
    note(id, value) {
      if (out === 0) return;
      seen.delete(id); // re-inserted last: the map stays in event order
      seen.set(id, { value, seq: ++seq });
    },
    async read(call) {
      const start = seq;
      out++;
      try {
        const answer = await call();
        const during = new Map<string, T>();
        for (const [id, e] of seen) if (e.seq > start) during.set(id, e.value);
        return { answer, during };
      } finally {
        if (--out === 0) seen.clear();
      }
    },
  };
}
