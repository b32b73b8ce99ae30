// What --server (or HOOKLAB_SERVER) may be: hooklab's base URL. A receiver URL or an API route
// pasted there went on to ask for /h/BIN/api/bins and said "not found: No bin at this URL…"
// (exit 2), as if the bin were missing. A user name and password in it are no way in (the
// server takes a token) and were echoed in every "cannot reach hooklab at …".

/** hooklab's API routes (/api/<name>/…): a path ending in one of them, or in /api, is not a base URL. */
const API_ROUTES = new Set(['bins', 'webhooks', 'deliveries', 'runs', 'replays', 'clock', 'schedule', 'health', 'openapi', 'openapi.json', 'docs']);

/** The URL as it may be said: any user name and password replaced. Also for a value that is no URL at all. */
export function withoutUserInfo(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/*)[^/?#]*@/i, '$1…@');
}

/** Why `u` is not a base URL of hooklab, or null. `from`: where it was given (--server, HOOKLAB_SERVER). */
export function serverUrlProblem(u: URL, from: string): string | null {
  if (u.username || u.password) {
    return `${from} must not hold a user name or password (${withoutUserInfo(u.href)}): hooklab takes an access token, pass it with --token or HOOKLAB_TOKEN`;
  }
  const path = u.pathname;
  const receiver = /\/h\/[^/]+/.exec(path);
  const api = /\/api(?:\/([^/]+))?(?:\/.*)?$/.exec(path);
  const at = receiver ? receiver.index : api && (api[1] === undefined || API_ROUTES.has(api[1].toLowerCase())) ? api.index : -1;
  if (at < 0) return null;
  const base = u.origin + path.slice(0, at);
  return `${from} should be hooklab's base URL (here ${base}), not ${receiver ? 'a receiver URL' : 'an API route'}: ${u.origin}${path}`;
}
