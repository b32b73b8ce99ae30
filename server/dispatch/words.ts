// Durations in words, for the reasons the dispatcher records ("waits 10 min instead of 5 min").
// The same style as the UI's formatDuration (client/src/lib/format.ts).

export function duration(ms: number): string {
  const a = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (a < 1000) return `${sign}${Math.round(a)} ms`;
  if (a < 60_000) return `${sign}${+(a / 1000).toFixed(a < 10_000 ? 1 : 0)} s`;
  if (a < 3_600_000) {
    const m = Math.floor(a / 60_000);
    const s = Math.round((a % 60_000) / 1000);
    return `${sign}${s === 60 ? `${m + 1} min` : s ? `${m} min ${s} s` : `${m} min`}`;
  }
  if (a < 172_800_000) {
    const h = Math.floor(a / 3_600_000);
    const m = Math.round((a % 3_600_000) / 60_000);
    return `${sign}${m === 60 ? `${h + 1} h` : m ? `${h} h ${m} min` : `${h} h`}`;
  }
  const d = Math.floor(a / 86_400_000);
  const h = Math.round((a % 86_400_000) / 3_600_000);
  return `${sign}${h === 24 ? `${d + 1} d` : h ? `${d} d ${h} h` : `${d} d`}`;
}

/** "1 delivery", "2 deliveries". */
export function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
