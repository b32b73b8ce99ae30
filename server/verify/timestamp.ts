// Signed timestamps: Unix seconds as decimal text. The text is what was signed; the number is
// only for the tolerance check.

export interface Timestamp {
  text: string;
  sec: number | null;
  /** The scheme reads 13-digit values as milliseconds (a generic sender's Date.now()). */
  millisToo?: boolean;
}

/** `millisToo`: a generic sender may send milliseconds; 13-digit values are read as those. */
export function readTimestamp(text: string, millisToo = false): Timestamp {
  if (!/^\d{1,16}$/.test(text)) return { text, sec: null, ...(millisToo && { millisToo }) };
  const n = Number(text);
  return { text, sec: millisToo && n >= 1e11 ? Math.floor(n / 1000) : n, ...(millisToo && { millisToo }) };
}

export type TimeUnit = 'milliseconds' | 'microseconds' | 'nanoseconds';

/**
 * The unit a timestamp too long for Unix seconds was likely written in, by its digits (as
 * parseInt reads them): now is 10 digits in seconds, 13 in milliseconds (Date.now()), 16 in
 * microseconds, 19 in nanoseconds. Null for seconds, or a value no such unit explains.
 */
export function timeUnitOf(text: string): TimeUnit | null {
  const digits = (/^\s*\+?(\d+)/.exec(text)?.[1] ?? '').replace(/^0+/, '').length;
  if (digits >= 12 && digits <= 14) return 'milliseconds';
  if (digits >= 15 && digits <= 17) return 'microseconds';
  if (digits >= 18 && digits <= 20) return 'nanoseconds';
  return null;
}

/** " The timestamp looks like microseconds: …", or "" (seconds, or milliseconds read as such). */
export function unitHint(ts: Timestamp): string {
  const unit = timeUnitOf(ts.text);
  if (!unit || (unit === 'milliseconds' && ts.millisToo)) return '';
  return ` The timestamp looks like ${unit}: this scheme signs Unix seconds${ts.millisToo ? ' (or milliseconds)' : ''}.`;
}
