// Connections refused by a connection cap (MAX_CONNECTIONS, MAX_CONNECTIONS_PER_IP) are kept
// only to tell their one request why (a 503), so they are bounded themselves: else the cap
// bounds nothing. An idle timeout was not enough: a client trickling a header byte every
// 2 s kept each refused socket until HEADERS_TIMEOUT_MS (22,000 from one address held
// ~9,300 fds and +220 MB). So each gets a deadline from its accept, whatever it sends, and
// only so many wait for theirs at once; past that, a refused connection is closed at once,
// unanswered (its client retries as after any dropped connection).
import type { Socket } from 'node:net';

/** A refused connection is closed this long after it came, answered or not (its 503 and the linger after it included). */
export const REFUSAL_DEADLINE_MS = 5000;
/** Refused connections waiting to be told why, at once; past it, new ones are closed at once. */
export const MAX_PENDING_REFUSALS = 256;

export interface PendingRefusals {
  /** Keep a refused socket until its deadline (true), or destroy it at once (false: too many pending). */
  admit(socket: Socket): boolean;
  /** Refused connections open now. */
  readonly size: number;
}

export function pendingRefusals(max = MAX_PENDING_REFUSALS, deadlineMs = REFUSAL_DEADLINE_MS): PendingRefusals {
  let pending = 0;
  return {
    admit(socket) {
      if (pending >= max) {
        socket.destroy();
        return false;
      }
      pending++;
      const deadline = setTimeout(() => socket.destroy(), deadlineMs);
      deadline.unref();
      socket.once('close', () => {
        pending--;
        clearTimeout(deadline);
      });
      return true;
    },
    get size() {
      return pending;
    },
  };
}
