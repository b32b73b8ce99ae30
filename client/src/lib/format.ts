// Formatting helpers: sizes, times, durations, status classes. Pure.

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** "14:03:22.517" in local time. */
export function formatClock(iso: string | number, millis = true): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const base = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return millis ? `${base}.${pad(d.getMilliseconds(), 3)}` : base;
}

/** "2025-11-29" in local time. */
export function formatDate(iso: string | number): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Time of day, with the date in front when it is not the same day as `now`. */
export function formatWhen(iso: string | number, now: number = Date.now(), millis = true): string {
  const d = new Date(iso);
  const sameDay = formatDate(d.getTime()) === formatDate(now);
  return sameDay ? formatClock(iso, millis) : `${formatDate(iso)} ${formatClock(iso, millis)}`;
}

/** A duration, short and readable: "850 ms", "5.2 s", "4 min 12 s", "3 h 20 min", "2 d 4 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const neg = ms < 0;
  const a = Math.abs(ms);
  let s: string;
  if (a < 1000) s = `${Math.round(a)} ms`;
  else if (a < 10_000) s = `${(a / 1000).toFixed(1).replace(/\.0$/, '')} s`;
  else if (a < 60_000) s = `${Math.round(a / 1000)} s`;
  else if (a < 3_600_000) {
    const m = Math.floor(a / 60_000);
    const sec = Math.round((a % 60_000) / 1000);
    s = sec === 60 ? `${m + 1} min` : sec ? `${m} min ${sec} s` : `${m} min`;
  } else if (a < 172_800_000) {
    const hh = Math.floor(a / 3_600_000);
    const mm = Math.round((a % 3_600_000) / 60_000);
    s = mm === 60 ? `${hh + 1} h` : mm ? `${hh} h ${mm} min` : `${hh} h`;
  } else {
    const dd = Math.floor(a / 86_400_000);
    const hh = Math.round((a % 86_400_000) / 3_600_000);
    s = hh === 24 ? `${dd + 1} d` : hh ? `${dd} d ${hh} h` : `${dd} d`;
  }
  return neg ? `-${s}` : s;
}

/** "12 s ago", "in 4 min". */
export function formatRelative(iso: string | number, now: number = Date.now()): string {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '—';
  const diff = t - now;
  if (Math.abs(diff) < 1000) return 'now';
  return diff < 0 ? `${formatDuration(-diff)} ago` : `in ${formatDuration(diff)}`;
}

/** A bin's idle deadline (BIN_IDLE_DAYS) for its list entry; once past, the next sweep (within the hour) deletes it. */
export function idleExpiryText(idleExpiresAt: string, now: number = Date.now()): string {
  return new Date(idleExpiresAt).getTime() > now ? `deleted ${formatRelative(idleExpiresAt, now)} if idle` : 'idle: deleted soon';
}

export type Tone = 'ok' | 'warn' | 'bad' | 'muted' | 'info';

/** Colour family of an HTTP status answered or received; null = no status (a fault). */
export function statusTone(status: number | null): Tone {
  if (status === null) return 'bad';
  if (status >= 200 && status < 300) return 'ok';
  if (status >= 300 && status < 400) return 'info';
  if (status >= 400 && status < 500) return 'warn';
  return 'bad';
}

/**
 * Proxy mode, the first target's answer still awaited: the server stores the capture's answer
 * as { source: 'proxy', status: null } until then. Its final answer always has a status (the
 * target's, or 502/504 when it could not answer), so this is never a failure.
 */
export const awaitingTarget = (a: { source: string; status: number | null; fault: string | null }): boolean => a.source === 'proxy' && a.status === null && a.fault === null;

/**
 * Past this since a capture arrived, its proxied answer will not come: FORWARD_TIMEOUT_MS is
 * at most 600 s, plus room for a browser clock that differs from the server's. A capture still
 * "waiting" then lost its answer: hooklab stopped (a crash, a kill) before the target answered.
 */
export const PROXY_ANSWER_LOST_MS = 15 * 60_000;

/** awaitingTarget, told apart: 'waiting' while the answer can still come, 'lost' after. */
export function proxyWait(a: { source: string; status: number | null; fault: string | null }, receivedAt: string, now = Date.now()): 'waiting' | 'lost' | null {
  if (!awaitingTarget(a)) return null;
  return now - Date.parse(receivedAt) > PROXY_ANSWER_LOST_MS ? 'lost' : 'waiting';
}

/** Case-insensitive first header value. */
export function headerValue(headers: [string, string][], name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === want) return v;
  return undefined;
}

/** "1,234" */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** "just now", "12 s ago", "4 min ago", "3 h ago", "2 d ago": for times that keep moving on screen. */
export function formatAgo(iso: string | number, now: number = Date.now()): string {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '—';
  const s = Math.floor((now - t) / 1000);
  if (s < 0) return formatRelative(iso, now);
  if (s < 2) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** The full local date and time, for a tooltip: "2025-11-29 14:03:22.517". */
export const formatAbsolute = (iso: string | number): string => `${formatDate(iso)} ${formatClock(iso)}`;
