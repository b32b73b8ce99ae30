// The virtual clock every dispatcher decision reads. It runs at `scale` times real time
// (1440 = 24 h per minute), can pause, and can jump forward. Its state is an anchor pair
// (virtual, real), so it is persisted as four numbers and keeps running across a restart.
//
// The dispatcher can hold it: `hold(t)` says "nothing may be stamped later than t until I
// have sent what is due at t". now() then reads at most t, however far the anchor has run;
// once the hold moves on, the clock catches up with where its speed would have it. So when
// the dispatcher cannot keep up (a slow receiver, 86400x, a restart after downtime) virtual
// time waits for it instead of running past planned attempts, and never goes backwards.
import type { ClockPersisted } from '../store/types.ts';
import { END_OF_TIME } from '../time.ts';

/** The clock stops at the last instant RFC 3339 writes (see END_OF_TIME); at the top speed it is minutes away. */
export { END_OF_TIME };

export class VirtualClock {
  private state: ClockPersisted;
  private ceiling: number | null = null;
  /** The latest instant now() has answered: a hold never goes below it. */
  private lastRead: number;
  private readonly listeners = new Set<() => void>();

  /** Made from a saved state (false: a clock nobody has saved yet, anchored at its making). */
  readonly wasSaved: boolean;

  constructor(private readonly realNow: () => number, saved: ClockPersisted | null) {
    const r = realNow();
    this.wasSaved = saved !== null;
    this.state = saved ?? { virtualMs: r, realMs: r, scale: 1, paused: false };
    this.lastRead = this.state.virtualMs;
  }

  /** Where the clock's speed alone would have it (ignores the hold). */
  projected(): number {
    const s = this.state;
    if (s.paused) return Math.min(s.virtualMs, END_OF_TIME);
    return Math.min(Math.floor(s.virtualMs + (this.realNow() - s.realMs) * s.scale), END_OF_TIME);
  }

  now(): number {
    const p = this.projected();
    const t = this.ceiling !== null && p > this.ceiling ? this.ceiling : p;
    if (t > this.lastRead) this.lastRead = t;
    return t;
  }

  /** Virtual ms the hold keeps the clock behind its projection (0 when not held back). */
  behind(): number {
    return this.projected() - this.now();
  }

  /**
   * Cap now() at `t` (null: no cap). Never lower than what now() has already answered: the
   * dispatcher only holds at instants not yet passed, and a clock must not go back. (After
   * a restart that is the saved anchor: the clock resumes at the first thing still owed.)
   */
  hold(t: number | null) {
    this.ceiling = t === null ? null : Math.max(t, this.lastRead);
  }

  get scale() {
    return this.state.scale;
  }
  get paused() {
    return this.state.paused;
  }

  persisted(): ClockPersisted {
    return { ...this.state };
  }

  /** Re-anchor at the current (held) instant, then apply a change. */
  private set(patch: Partial<ClockPersisted>) {
    this.state = { ...this.state, virtualMs: this.now(), realMs: this.realNow(), ...patch };
    for (const l of this.listeners) l();
  }

  setScale(scale: number) {
    this.set({ scale });
  }
  setPaused(paused: boolean) {
    this.set({ paused });
  }
  /** Jump forward to a virtual instant (never backwards: recorded times stay ordered). */
  jumpTo(virtualMs: number) {
    const t = Math.min(virtualMs, END_OF_TIME);
    if (t > this.now()) this.set({ virtualMs: t });
  }

  /** Real milliseconds until virtual instant `t` arrives (by speed alone); Infinity while paused. */
  realDelayUntil(t: number): number {
    if (t > END_OF_TIME) return Infinity;
    const ahead = t - this.projected();
    if (ahead <= 0) return 0;
    if (this.state.paused) return Infinity;
    return ahead / this.state.scale;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
