// Time formatting shared by the server. RFC 3339 everywhere.

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** RFC 3339 to the second with a Z, as in the Portable payloads ("2024-01-04T22:52:01Z"). */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
