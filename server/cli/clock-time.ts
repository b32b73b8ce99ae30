// The time of day a CLI line starts with: in the local time zone, as the developer's own app
// logs and terminal show it (the server's ISO times are UTC; printed bare they read as hours off).
const two = (n: number) => String(n).padStart(2, '0');

/** HH:MM:SS.mmm of an ISO time, in this machine's time zone (TZ). */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}
