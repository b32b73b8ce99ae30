// hooklab's own origins: PUBLIC_URL's, and the address it listens on under the names it
// answers to. A forward target at one of them would send captures back into hooklab.
import type { Server } from 'node:http';

function ownOrigins(publicUrl: string, server: Server): string[] {
  const out = [new URL(publicUrl).origin];
  const a = server.address();
  if (a && typeof a === 'object') {
    for (const host of ['127.0.0.1', 'localhost', '[::1]', a.address.includes(':') ? `[${a.address}]` : a.address]) out.push(`http://${host}:${a.port}`);
  }
  return out;
}

/**
 * Whether a URL is at one of hooklab's own origins (its path is not looked at), remembered per
 * URL: asked once per attempt, of a few URLs. The origins are worked out again when PUBLIC_URL
 * changes or the server starts listening.
 */
export function ownOriginCheck(publicUrl: () => string, server: Server): (url: string) => boolean {
  let key = '';
  let origins = new Set<string>();
  const verdicts = new Map<string, boolean>();
  return (url) => {
    const k = `${server.listening ? 1 : 0}${publicUrl()}`;
    if (k !== key) {
      key = k;
      origins = new Set(ownOrigins(publicUrl(), server));
      verdicts.clear();
    }
    let v = verdicts.get(url);
    if (v === undefined) {
      try {
        v = origins.has(new URL(url).origin);
      } catch {
        v = false;
      }
      if (verdicts.size >= 1000) verdicts.clear();
      verdicts.set(url, v);
    }
    return v;
  };
}
