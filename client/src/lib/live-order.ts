// A value that both live events and request answers carry (a plan's position): each change
// on the server is announced live, in order, so the live events alone end on the newest
// value. An answer is a snapshot taken while it was on its way: when a live event came in
// meanwhile, the answer may be older than that event (a reset answered after the next
// request's step was already shown) and must not replace it.

export interface LiveOrder {
  /** Count a live event (call it as each one arrives). */
  live(): void;
  /** Run a request; its answer is marked overtaken when a live event came while it was out. */
  ask<T extends object>(call: () => Promise<T>, valueOf?: (answer: T) => object): Promise<T>;
  /** Did a live event come while the request that brought this value was out? */
  overtaken(value: object): boolean;
}

export function liveOrder(): LiveOrder {
  let seen = 0;
  const stale = new WeakSet<object>();
  return {
    live() {
      seen++;
    },
    async ask(call, valueOf = (a) => a) {
      const before = seen;
      const answer = await call();
      if (seen !== before) stale.add(valueOf(answer));
      return answer;
    },
    overtaken: (value) => stale.has(value),
  };
}
