// A timeout that does not fire on an answer which arrived while the process was suspended
// (a laptop asleep, SIGSTOP). After a resume, Node runs overdue timers before it reads the
// sockets, so a plain setTimeout would call "timeout" on a reply already sitting in the
// kernel's buffer, and a relay would then send the same event again. When the timer fires
// much later than planned, it waits a short grace first, so that pending I/O is read.

export interface WakeAwareTimeout {
  clear(): void;
}

/** Calls onExpire after ms, unless cleared; late by more than lateMs, it waits graceMs more. */
export function wakeAwareTimeout(ms: number, onExpire: () => void, opts: { lateMs?: number; graceMs?: number; now?: () => number } = {}): WakeAwareTimeout {
  const now = opts.now ?? (() => performance.now());
  const lateMs = opts.lateMs ?? 1000;
  const graceMs = opts.graceMs ?? 250;
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
