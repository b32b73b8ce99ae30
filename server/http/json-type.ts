// Which request bodies the API reads as JSON: application/json and application/*+json only. Any
// type naming "json" was taken before, so a browser page could send JSON as text/plain;x=json, a
// type it may send to another site without asking first (no CORS preflight).
export function isJsonType(contentType: string | undefined): boolean {
  const t = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return t === 'application/json' || /^application\/[a-z0-9!#$&^_.+-]+\+json$/.test(t);
}
