// The dispatcher's virtual clock on the client: the server sends {now, scale, paused} on
// change only; between events the displayed time is extrapolated locally.
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
  return base + (realNow - c.receivedAt) * c.state.scale;
}

/** Re-render every `everyMs` with the extrapolated virtual time. */
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
