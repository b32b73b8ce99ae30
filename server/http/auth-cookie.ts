// The cookie a signed-in browser carries the access token in (AUTH_TOKEN; see auth.ts), and
// taking it out of what a receiver URL captures. Path=/ covers receiver URLs too, so a browser
// signed in to hooklab that opens one of them sends it along: kept, it would show in the
// capture, its exports and the live view, and go on to every forward target.

export const COOKIE = 'hooklab_token';

/**
 * `flat` (rawHeaders) without the `hooklab_token` cookie when it holds the access token (a
 * Cookie header left empty goes). Other cookies, and one of that name holding something else,
 * stay as sent. Answers `flat` itself when there is nothing to take out.
 */
export function withoutAuthCookie(flat: string[], token: string | null): string[] {
  if (!token) return flat;
  let out: string[] | null = null;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i];
    const value = flat[i + 1];
    if (name.length === 6 && name.toLowerCase() === 'cookie' && value.includes(COOKIE)) {
      const parts = value.split(';');
      const kept = parts.filter((part) => !isTokenCookie(part, token));
      if (kept.length !== parts.length) {
        out ??= flat.slice(0, i);
        const rest = kept.join(';').trim();
        if (rest) out.push(name, rest);
        continue;
      }
    }
    out?.push(name, value);
  }
  return out ?? flat;
}

function isTokenCookie(part: string, token: string): boolean {
  const eq = part.indexOf('=');
  if (eq < 0 || part.slice(0, eq).trim() !== COOKIE) return false;
  const value = part.slice(eq + 1).trim();
  if (value === token) return true;
  try {
    return decodeURIComponent(value) === token;
  } catch {
    return false;
  }
}
