// Signed timestamps: Unix seconds as decimal text. The text is what was signed; the number is
// only for the tolerance check.

export interface Timestamp {
  text: string;
  sec: number | null;
}

/** `millisToo`: a generic sender may send milliseconds; 13-digit values are read as those. */
export function readTimestamp(text: string, millisToo = false): Timestamp {
  if (!/^\d{1,16}$/.test(text)) return { text, sec: null };
  const n = Number(text);
  return { text, sec: millisToo && n >= 1e11 ? Math.floor(n / 1000) : n };
}
