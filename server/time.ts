// Time formatting shared by the server. RFC 3339 everywhere.

/**
 * The last instant RFC 3339 writes (four year digits): past it toISOString writes "+010000-…",
 * which no date-time schema (nor most receivers) takes. Only the virtual clock gets near it (at
 * the top speed, in minutes): it stops there (see dispatch/clock.ts), and a later instant (work
 * planned past it) is written as this one, so it falls due there.
 */
export const END_OF_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function iso(ms: number): string {
  return new Date(Math.min(ms, END_OF_TIME)).toISOString();
}

/** RFC 3339 to the second with a Z, as in the Portable payloads ("2024-01-04T22:52:01Z"). */
export function isoSeconds(ms: number): string {
  return iso(ms).replace(/\.\d{3}Z$/, 'Z');
}
