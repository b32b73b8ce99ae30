// The dispatcher's virtual clock on the client: the server sends {now, scale, paused,
// nextDueAt} on change only; between events the displayed time is extrapolated locally. The
// server's clock never passes what is due and not yet sent (nextDueAt), so neither does the
// extrapolation: at 86400x it would otherwise run hours past an attempt still being made.
import { useEffect, useState } from 'preact/hooks';
import type { ClockState } from '../../../shared/api.ts';

export interface ClockSnapshot {
  state: ClockState;
  /** performance.now() when the state was received. */
  receivedAt: number;
}

export function virtualNow(c: ClockSnapshot | null, realNow: number): number {
  if (!c) return Date.now();
  const base = Date.parse(c.state.now);
  if (c.state.paused) return base;
  const t = base + (realNow - c.receivedAt) * c.state.scale;
  const held = c.state.nextDueAt === null ? Infinity : Date.parse(c.state.nextDueAt);
  return Math.max(base, Math.min(t, held));
}

/**
 * Is the clock being held by work the dispatcher has not finished (at this speed it cannot
 * keep up)? True when the server says so, or when the extrapolation has been waiting at
 * nextDueAt for more than 250 ms of real time.
 */
export function isLagging(c: ClockSnapshot | null, realNow: number): boolean {
  if (!c || c.state.paused) return false;
  if (c.state.lagging) return true;
  if (c.state.nextDueAt === null) return false;
  const base = Date.parse(c.state.now);
  return base + (realNow - c.receivedAt) * c.state.scale - Date.parse(c.state.nextDueAt) > c.state.scale * 250;
}

/**
 * Re-render every `everyMs` with the extrapolated virtual time (never while paused). One
 * value for the whole page: the clock and every countdown read the same instant.
 */
export function useVirtualNow(c: ClockSnapshot | null, everyMs = 250): number {
  const [now, setNow] = useState(() => virtualNow(c, performance.now()));
  useEffect(() => {
    setNow(virtualNow(c, performance.now()));
    if (!c || c.state.paused) return;
    const t = setInterval(() => setNow(virtualNow(c, performance.now())), everyMs);
    return () => clearInterval(t);
  }, [c, everyMs]);
  return now;
}

export const SPEEDS: { scale: number; label: string; title: string }[] = [
  { scale: 1, label: '1×', title: 'Real time' },
  { scale: 60, label: '60×', title: '1 minute per second' },
  { scale: 1440, label: '1440×', title: '24 hours per minute' },
  { scale: 86_400, label: '86400×', title: '24 hours per second' },
];
