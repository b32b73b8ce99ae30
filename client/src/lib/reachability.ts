// Whether the hooklab server answers. A "Cannot reach the hooklab server" message is true only
// until the server is back: any successful API call after a failed one, or the live socket
// (re)connecting, tells the components showing such a message to clear it (and to retry).
// A server still loading its data after a restart answers 503 `starting`: that passes by itself
// too, so those are told to retry after its Retry-After, whether or not anything else answers.
const listeners = new Set<() => void>();
let down = false;
let retryTimer: ReturnType<typeof setTimeout> | null = null;

export function noteUnreachable(): void {
  down = true;
}

function wake(): void {
  down = false;
  for (const l of [...listeners]) l();
}

/** An API call got an answer: if one had failed to connect before, tell everyone. */
export function noteReachable(): void {
  if (down) wake();
}

/** The live socket connected: the server is there, whatever calls failed before. */
export function announceReachable(): void {
  wake();
}

/** The server answered that it is starting: what failed is tried again after `retryMs`. */
export function noteStarting(retryMs: number): void {
  down = true;
  if (retryTimer) return;
  retryTimer = setTimeout(() => {
    retryTimer = null;
    wake();
  }, retryMs);
}

export function onReachable(fn: () => void): () => void {
  listeners.add(fn);
  return () => void listeners.delete(fn);
}
