// Work that takes a lot of memory while it runs, a few at a time: the rest wait their turn, in
// order, and a bounded number of them. Building a capture's detail decodes up to
// MAX_DECODED_BYTES and serializes it (~45 MB at its peak for a 12.5 MB detail); 40 at once
// took the process from 180 to 700 MB, however few of them were then held for their client.
import type { EventEmitter } from 'node:events';

export type Leave = () => void;

export class Gate {
  private running = 0;
  private readonly queue: { go: () => void }[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
  ) {}

  /**
   * A turn: at once when one is free, else once one is; its leave() frees it (idempotent).
   * 'full' when maxWaiting already wait; null when `owner` (the response) closes before the
   * turn came (its client left: there is nothing to do).
   */
  enter(owner: EventEmitter): Promise<Leave | null> | 'full' {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve(this.leaver());
    }
    if (this.queue.length >= this.maxWaiting) return 'full';
    return new Promise((resolve) => {
      const entry = {
        go: () => {
          owner.off('close', gone);
          this.running++;
          resolve(this.leaver());
        },
      };
      const gone = () => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        resolve(null);
      };
      owner.once('close', gone);
      this.queue.push(entry);
    });
  }

  /** Turns taken now, and waiting. */
  get size(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.queue.length };
  }

  private leaver(): Leave {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.running--;
      this.queue.shift()?.go();
    };
  }
}
