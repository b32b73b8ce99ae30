// One shared clock for everything that says "12 s ago": a single interval, however many
// times are on screen, and it stops when nothing listens.
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<(now: number) => void>();
let timer: number | undefined;

function subscribe(fn: (now: number) => void): () => void {
  listeners.add(fn);
  timer ??= window.setInterval(() => {
    const now = Date.now();
    for (const l of listeners) l(now);
  }, 1000);
  return () => {
    listeners.delete(fn);
    if (listeners.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/** `compute(now)` now and every second; re-renders only when the answer changes. */
export function useTicking<T>(compute: (now: number) => T, deps: unknown[]): T {
  const [v, setV] = useState(() => compute(Date.now()));
  useEffect(() => {
    setV(compute(Date.now()));
    return subscribe((now) => setV(compute(now)));
  }, deps);
  return v;
}
