// The virtual clock every dispatcher decision reads. It runs at `scale` times real time
// (1440 = 24 h per minute), can pause, and can jump forward. Its state is an anchor pair
// (virtual, real), so it is persisted as four numbers and keeps running across a restart.
import type { ClockPersisted } from '../store/types.ts';

export class VirtualClock {
  private state: ClockPersisted;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly realNow: () => number, saved: ClockPersisted | null) {
    const r = realNow();
    this.state = saved ?? { virtualMs: r, realMs: r, scale: 1, paused: false };
  }

  now(): number {
    const s = this.state;
    if (s.paused) return s.virtualMs;
    return Math.floor(s.virtualMs + (this.realNow() - s.realMs) * s.scale);
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

  /** Re-anchor at the current instant, then apply a change. */
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
    if (virtualMs > this.now()) this.set({ virtualMs });
  }

  /** Real milliseconds until virtual instant `t` arrives; Infinity while paused. */
  realDelayUntil(t: number): number {
    const ahead = t - this.now();
    if (ahead <= 0) return 0;
    if (this.state.paused) return Infinity;
    return ahead / this.state.scale;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
