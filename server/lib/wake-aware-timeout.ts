// A timeout that does not fire on an answer which arrived while the process was suspended
// (a laptop asleep, SIGSTOP). After a resume, Node runs overdue timers before it reads the
// sockets, so a plain setTimeout would call "timeout" on a reply already sitting in the
// kernel's buffer, and a relay would then send the same event again. When the timer fires
// much later than planned, it waits a short grace first, so that pending I/O is read.

/** How late a timer must fire to count as a resume, and the grace it then gives. */
export const LATE_MS = 1000;
export const GRACE_MS = 250;

/** Did a timer due at `due` (performance.now()) fire late enough to have slept through? */
export const isLate = (due: number, now = performance.now()) => now - due > LATE_MS;

export interface WakeAwareTimeout {
  clear(): void;
}

/** Calls onExpire after ms, unless cleared; late by more than lateMs, it waits graceMs more. */
export function wakeAwareTimeout(ms: number, onExpire: () => void, opts: { lateMs?: number; graceMs?: number; now?: () => number } = {}): WakeAwareTimeout {
  const now = opts.now ?? (() => performance.now());
  const lateMs = opts.lateMs ?? LATE_MS;
  const graceMs = opts.graceMs ?? GRACE_MS;
  const due = now() + ms;
  let timer: NodeJS.Timeout | null = setTimeout(() => {
    if (now() - due > lateMs) timer = setTimeout(fire, graceMs);
    else fire();
  }, ms);
  function fire() {
    timer = null;
    onExpire();
  }
  return {
    clear() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
