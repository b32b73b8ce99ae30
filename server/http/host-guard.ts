// Without AUTH_TOKEN, the UI, API and Socket.IO trust whoever reaches them, which on the
// default loopback binding means local processes. Browsers blur that line: any web page can
// send requests to localhost (cross-site WebSocket hijacking, simple POSTs) or rebind its own
// domain name to 127.0.0.1. So, unless a token is set, a request must name one of our own
// host:port pairs in Host, and a browser's Origin (when sent) must be one of them too.
// Ports count: another web app on the same machine (http://localhost:3000) is another origin.
// Receiver URLs are exempt: senders may call them under any name.
//
// With a token, any Host will do (it cannot come with the token from a rebound name), but a
// browser's Origin still must be this site's: a page on another port or a sibling subdomain
// is the same *site*, so the SameSite=Strict sign-in cookie goes with its requests.
// (originAllowed: the Origin is the request's own Host, or one of ours as above.)
import type { IncomingMessage } from 'node:http';

export interface HostGuard {
  /** Host is one of ours, and so is Origin when sent (no token). */
  allows(req: IncomingMessage): boolean;
  readonly reason: string;
  /** Origin, when sent, is this request's own origin or one of ours (with a token). */
  originAllowed(req: IncomingMessage): boolean;
  /** Why a request's Origin was refused. */
  originReason(req: IncomingMessage): string;
}

export interface HostGuardOptions {
  /** PUBLIC_URL, read per request: it follows the bound port when it was not set. */
  publicUrl: () => string;
  /** HOST, the interface listened on. */
  host: string;
  /** ALLOWED_HOSTS entries: "name" or "name:port". */
  extra: string[];
  /** The port actually listened on; only known after listen() (PORT=0). */
  port: () => number;
}

const defaultPort = (protocol: string) => (protocol === 'https:' ? 443 : protocol === 'http:' ? 80 : null);

/** "[::1]:8080" -> {name "::1", port 8080}; "Example.com" -> {name "example.com", port null}. */
export function splitHostPort(s: string): { name: string; port: number | null } | null {
  const h = s.trim().toLowerCase();
  let name = h;
  let port = '';
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end === -1) return null;
    name = h.slice(1, end);
    const rest = h.slice(end + 1);
    if (rest && !rest.startsWith(':')) return null;
    port = rest.slice(1);
  } else if (h.indexOf(':') === h.lastIndexOf(':') && h.includes(':')) {
    [name, port] = h.split(':');
  } // else: a name, or a bare IPv6 address (an ALLOWED_HOSTS entry), without a port
  if (!name) return null;
  if (port === '') return { name, port: null };
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return null;
  return { name, port: Number(port) };
}

export function createHostGuard(opts: HostGuardOptions): HostGuard {
  const own = new Set(['localhost', '127.0.0.1', '::1']);
  if (opts.host !== '0.0.0.0' && opts.host !== '::') own.add(opts.host.toLowerCase().replace(/^\[|\]$/g, ''));
  const extra = opts.extra.map(splitHostPort).filter((e) => e !== null);

  // Every allowed "name:port", worked out when asked: both ports may change after listen().
  let cached: { key: string; map: Map<string, Set<number>> } | null = null;
  function allowed(): Map<string, Set<number>> {
    const listen = opts.port();
    const publicUrl = opts.publicUrl();
    const key = `${listen} ${publicUrl}`;
    if (cached?.key === key) return cached.map;
    const m = new Map<string, Set<number>>();
    const add = (name: string, ...ports: number[]) => {
      const set = m.get(name) ?? new Set<number>();
      for (const p of ports) set.add(p);
      m.set(name, set);
    };
    const pub = new URL(publicUrl);
    const pubPort = pub.port ? Number(pub.port) : defaultPort(pub.protocol)!;
    for (const n of own) add(n, listen);
    add(pub.hostname.replace(/^\[|\]$/g, ''), pubPort);
    for (const e of extra) {
      if (e.port === null) add(e.name, listen, pubPort);
      else add(e.name, e.port);
    }
    cached = { key, map: m };
    return m;
  }

  const ok = (name: string, ports: number[]) => {
    const set = allowed().get(name);
    const loopback = /^127\.\d+\.\d+\.\d+$/.test(name); // all of 127/8 is this machine
    return ports.some((p) => set?.has(p) || (loopback && p === opts.port()));
  };

  /** A browser's Origin as a name and port, or null ("null" from sandboxed frames and file://, other non-URLs). */
  const originOf = (origin: string): { name: string; port: number } | null => {
    try {
      const u = new URL(origin);
      const port = u.port ? Number(u.port) : defaultPort(u.protocol);
      return port === null ? null : { name: u.hostname.replace(/^\[|\]$/g, ''), port };
    } catch {
      return null;
    }
  };

  return {
    get reason() {
      const list = [...allowed()].flatMap(([n, ports]) => [...ports].map((p) => (n.includes(':') ? `[${n}]:${p}` : `${n}:${p}`)));
      return `this host or origin is not one of hooklab's (${list.join(', ')}, 127.x.x.x:${opts.port()}); add it to ALLOWED_HOSTS (name:port), or set AUTH_TOKEN to answer to any host name (a browser's Origin must still be one of these)`;
    },
    allows(req) {
      const host = req.headers.host ? splitHostPort(req.headers.host) : null;
      // No port in Host: the scheme's default, and we cannot tell which one a TLS proxy in
      // front of us was asked for, so either.
      if (!host || !ok(host.name, host.port === null ? [80, 443] : [host.port])) return false;
      const origin = req.headers.origin;
      if (origin === undefined) return true;
      const o = originOf(origin);
      return o !== null && ok(o.name, [o.port]);
    },
    originAllowed(req) {
      const origin = req.headers.origin;
      if (origin === undefined) return true; // not a browser's cross-origin request
      const o = originOf(origin);
      if (!o) return false;
      const host = req.headers.host ? splitHostPort(req.headers.host) : null;
      // Its own origin (behind a TLS proxy, Host may carry no port: either default).
      if (host && host.name.replace(/^\[|\]$/g, '') === o.name && (host.port === null ? o.port === 80 || o.port === 443 : host.port === o.port)) return true;
      return ok(o.name, [o.port]);
    },
    originReason(req) {
      const origin = String(req.headers.origin).slice(0, 200);
      return `requests from another site's pages are refused (Origin ${origin}): only hooklab's own pages may use its API with the sign-in cookie; add that origin to ALLOWED_HOSTS (name:port) if it is one of yours`;
    },
  };
}
