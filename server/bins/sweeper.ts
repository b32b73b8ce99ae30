// Deletes idle bins (see idle.ts) now and then. With several instances on Redis, only the one
// running the dispatcher sweeps, so a bin is deleted (and announced) once.
import { type BinActivity, idleBins, sweepEveryMs } from './idle.ts';

export interface IdleSweeperDeps {
  idleMs: number;
  now: () => number;
  /** Every bin with its activity. */
  list: () => Promise<BinActivity[]>;
  /** One bin's activity now, or null when it is gone. */
  get: (id: string) => Promise<BinActivity | null>;
  /** Delete one bin as DELETE /api/bins/:id does; false when it was gone already. */
  remove: (id: string) => Promise<boolean>;
  /** Whether this instance sweeps right now. */
  active: () => boolean;
  onSwept: (ids: string[]) => void;
  onError: (err: unknown) => void;
}

export interface IdleSweeper {
  /** One pass (the timer's, or a test's); answers the ids deleted. */
  sweep(): Promise<string[]>;
  /** No more passes; resolves once one under way has ended. */
  stop(): Promise<void>;
}

export function startIdleSweeper(d: IdleSweeperDeps): IdleSweeper {
  let running: Promise<string[]> | null = null;
  const once = async (): Promise<string[]> => {
    if (!d.active()) return [];
    const gone: string[] = [];
    // Checked again one by one: a capture may have come in since the list was read.
    for (const id of idleBins(await d.list(), d.now(), d.idleMs)) {
      const fresh = await d.get(id);
      if (fresh && idleBins([fresh], d.now(), d.idleMs).length && (await d.remove(id))) gone.push(id);
    }
    if (gone.length) d.onSwept(gone);
    return gone;
  };
  // One pass at a time; the reset is a callback, so it runs after `running` is set even when
  // a pass ends without waiting (an instance that does not sweep).
  const sweep = (): Promise<string[]> =>
    (running ??= once().finally(() => {
      running = null;
    }));
  const pass = () => void sweep().catch(d.onError);
  // One pass at start too: bins may have gone idle while hooklab was stopped.
  const first = setTimeout(pass, 0);
  const timer = setInterval(pass, sweepEveryMs(d.idleMs));
  first.unref();
  timer.unref();
  return {
    sweep,
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
