// Whether the hooklab server answers. A "Cannot reach the hooklab server" message is true only
// until the server is back: any successful API call after a failed one, or the live socket
// (re)connecting, tells the components showing such a message to clear it (and to retry).
const listeners = new Set<() => void>();
let down = false;

export function noteUnreachable(): void {
  down = true;
}

/** An API call got an answer: if one had failed to connect before, tell everyone. */
export function noteReachable(): void {
  if (!down) return;
  down = false;
  for (const l of [...listeners]) l();
}

/** The live socket connected: the server is there, whatever calls failed before. */
export function announceReachable(): void {
  down = false;
  for (const l of [...listeners]) l();
}

export function onReachable(fn: () => void): () => void {
  listeners.add(fn);
  return () => void listeners.delete(fn);
}
