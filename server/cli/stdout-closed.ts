// A reader that went away (`hooklab forward … | head -2`): cli/main.ts asks a command that
// stops on SIGTERM to stop so (its cursor written, nothing half done), and notes it here so the
// command's "stopping" line says what happened, not a SIGTERM nobody sent.
let closed = false;

export function noteStdoutClosed(): void {
  closed = true;
}

/** What asked for the stop, for the "…: stopping" line: the signal, or the closed stdout. */
export function stopCause(signal: string): string {
  return signal === 'SIGTERM' && closed ? 'stdout closed' : signal;
}
