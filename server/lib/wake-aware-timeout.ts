// After a resume (a laptop asleep, SIGSTOP), Node runs overdue timers before it reads the
// sockets, so a plain timeout would call "timeout" on a reply already sitting in the kernel's
// buffer, and a relay would then send the same event again. A timer that fires much later than
// planned (isLate) should wait a short grace first (GRACE_MS), so that pending I/O is read. One
// that fires about on time may still come right after a resume (one that ended just after it
// was due): it should decide only after the loop's next look at the sockets (setImmediate runs
// after it), which reads what is already in and adds no time to a real timeout.

/** How late a timer must fire to count as a resume, and the grace it then gives. */
export const LATE_MS = 1000;
export const GRACE_MS = 250;

/** Did a timer due at `due` (performance.now()) fire late enough to have slept through? */
export const isLate = (due: number, now = performance.now()) => now - due > LATE_MS;
