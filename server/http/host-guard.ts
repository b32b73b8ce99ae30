// Without AUTH_TOKEN, the UI, API and Socket.IO trust whoever reaches them, which on the
// default loopback binding means local processes. Browsers blur that line: any web page can
// send requests to localhost (cross-site WebSocket hijacking, simple POSTs) or rebind its own
// domain name to 127.0.0.1. So, unless a token is set, a request must name one of our own
// host names in Host, and a browser's Origin (when sent) must be one of them too.
// Receiver URLs are exempt: senders may call them under any name.
import type { IncomingMessage } from 'node:http';

export interface HostGuard {
  allows(req: IncomingMessage): boolean;
  reason: string;
}

function hostnameOf(hostHeader: string): string {
  // "[::1]:8080" -> "::1", "Example.com:80" -> "example.com"
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

export function createHostGuard(opts: { publicUrl: string; host: string; extra: string[] }): HostGuard {
  const names = new Set(['localhost', '127.0.0.1', '::1', ...opts.extra.map((e) => e.toLowerCase())]);
  names.add(new URL(opts.publicUrl).hostname.replace(/^\[|\]$/g, '').toLowerCase());
  if (opts.host !== '0.0.0.0' && opts.host !== '::') names.add(opts.host.toLowerCase());
  const ok = (hostname: string) => names.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
  return {
    reason: `this host name is not one of hooklab's (${[...names].join(', ')}); add it to ALLOWED_HOSTS or set AUTH_TOKEN`,
    allows(req) {
      const host = req.headers.host;
      if (!host || !ok(hostnameOf(host))) return false;
      const origin = req.headers.origin;
      if (origin === undefined) return true;
      try {
        return ok(new URL(origin).hostname.replace(/^\[|\]$/g, '').toLowerCase());
      } catch {
        return false; // "null" (sandboxed frames, file://) and other non-URLs
      }
    },
  };
}
