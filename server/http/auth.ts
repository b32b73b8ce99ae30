// Optional access token (AUTH_TOKEN). When set, the UI, the API and Socket.IO need it;
// receiver URLs stay open because senders cannot log in. A browser gets it once through
// the login form and keeps it in an HttpOnly, SameSite=Strict cookie; scripts and tools
// send `Authorization: Bearer <token>`. Wrong tokens are rate-limited per client IP
// (auth-limit.ts), wherever they are tried.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { clientIp } from '../capture/receiver.ts';
import type { Config } from '../config.ts';
import { clientKey } from '../net/client-key.ts';
import { AuthFailureLimiter } from './auth-limit.ts';

import { COOKIE } from './auth-cookie.ts';

export { COOKIE };

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

export function tokenFrom(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  if (h && /^bearer /i.test(h)) return h.slice(7).trim();
  return cookieValue(req.headers.cookie, COOKIE);
}

export function tokenMatches(given: unknown, expected: string): boolean {
  // Anything but a non-empty string (a Socket.IO handshake can carry any JSON) is a no.
  if (typeof given !== 'string' || given === '') return false;
  // Compare digests: constant time, and no length leak.
  return timingSafeEqual(digest(given), digest(expected));
}

export type TokenCheck = { ok: true } | { ok: false; retryAfter: number | null };

/** The one place a presented token is checked: by the login form, the API and Socket.IO. */
export interface TokenGate {
  check(req: IncomingMessage, given: unknown): TokenCheck;
}

export function tokenGate(token: string, opts: { failuresPerMinute: number; trustProxy: boolean; now: () => number }): TokenGate {
  const limiter = new AuthFailureLimiter(opts.failuresPerMinute);
  return {
    check(req, given) {
      // Per /64 for IPv6 (see clientKey): a new address per guess would not get round it.
      const ip = clientKey(clientIp(req, opts.trustProxy));
      const now = opts.now();
      // Refused even when right: otherwise the answer would still tell a guess that hit.
      const wait = limiter.retryAfterSeconds(ip, now);
      if (wait > 0) return { ok: false, retryAfter: wait };
      if (tokenMatches(given, token)) return { ok: true };
      // No token at all (a first visit) is not a guess; the same wrong one again is no new guess.
      if (given !== undefined && given !== null && given !== '') limiter.fail(ip, now, typeof given === 'string' ? digest(given).toString('base64') : undefined);
      return { ok: false, retryAfter: null };
    },
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Only same-site paths: never an absolute or protocol-relative URL (open redirect). */
function safeNext(v: unknown): string {
  return typeof v === 'string' && v.startsWith('/') && !v.startsWith('//') && !v.startsWith('/\\') ? v : '/';
}

// A refusal is tied to the field (described by it, marked invalid) and said at once (an alert):
// the reloaded page's autofocus read only the field. The dark scheme's red is lighter: #b00020
// on #111 was 2.6:1, #ff8a80 is 8:1.
const LOGIN_PAGE = (error: string | null, next: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>hooklab · sign in</title>
<style>body{font:16px system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0}
form{display:grid;gap:.6rem;width:min(22rem,90vw)}input,button{font:inherit;padding:.5rem}
.err{color:#b00020}@media (prefers-color-scheme:dark){body{background:#111;color:#eee}.err{color:#ff8a80}}</style></head>
<body><main><form method="post" action="/auth/login"><h1>hooklab</h1>
<input type="hidden" name="next" value="${escapeHtml(next)}">
<label for="t">Access token</label><input id="t" name="token" type="password" autocomplete="current-password" autofocus required${error ? ' aria-invalid="true" aria-describedby="t-err"' : ''}>
${error ? `<p class="err" id="t-err" role="alert">${escapeHtml(error)}</p>` : ''}<button type="submit">Sign in</button></form></main></body></html>`;

const waitMessage = (seconds: number) => `Too many wrong tokens from your address. Wait ${seconds} s, then try again.`;

/**
 * `sameSite`: the request comes from one of our own pages (its Origin is ours), or from no page
 * at all (no Origin: curl, a script). Signing out needs it, signing in does not (see below).
 */
export function authRoutes(gate: TokenGate, config: Pick<Config, 'trustProxy' | 'publicUrl'>, sameSite: (req: Request) => boolean = () => true): Router {
  const r = Router();
  // Secure when the browser is on https: req.secure (behind a proxy, its X-Forwarded-Proto),
  // or a proxy (TRUST_PROXY) serving an https PUBLIC_URL, which need not say the scheme: a
  // proxy config without X-Forwarded-Proto left the token's cookie without Secure.
  const secure = (req: Request) => req.secure || (config.trustProxy && /^https:/i.test(config.publicUrl));
  r.post('/auth/login', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
    const given = typeof req.body?.token === 'string' ? req.body.token : '';
    const c = gate.check(req, given);
    if (!c.ok) {
      if (c.retryAfter !== null) res.status(429).setHeader('retry-after', String(c.retryAfter));
      else res.status(401);
      res.type('html').send(LOGIN_PAGE(c.retryAfter !== null ? waitMessage(c.retryAfter) : 'That token is not right.', safeNext(req.body?.next)));
      return;
    }
    res.cookie(COOKIE, given, { httpOnly: true, sameSite: 'strict', secure: secure(req), path: '/' });
    res.redirect(303, safeNext(req.body?.next));
  });
  r.post('/auth/logout', (req, res) => {
    // Another site's form must not sign the user out (a nuisance, but a change all the same):
    // a foreign Origin is refused, and so is "null" unless the browser says the page was ours.
    if (!sameSite(req)) {
      res.status(403).json({ error: { code: 'forbidden_origin', message: 'signing out is only done from hooklab\'s own pages (or with no Origin, as curl sends)' } });
      return;
    }
    res.clearCookie(COOKIE, { path: '/' });
    res.redirect(303, '/');
  });
  return r;
}

/** Guards everything mounted after it. API calls get 401 JSON; pages get the login form. */
export function requireToken(gate: TokenGate) {
  return (req: Request, res: Response, next: NextFunction) => {
    const c = gate.check(req, tokenFrom(req));
    if (c.ok) return next();
    const api = req.path.startsWith('/api/');
    if (c.retryAfter !== null) {
      res.status(429).setHeader('retry-after', String(c.retryAfter));
      if (api) res.json({ error: { code: 'rate_limited', message: `too many wrong access tokens from this address; try again in ${c.retryAfter} s` } });
      else res.type('html').send(LOGIN_PAGE(waitMessage(c.retryAfter), safeNext(req.originalUrl)));
      return;
    }
    if (api) {
      res.status(401).json({ error: { code: 'unauthorized', message: 'missing or wrong access token (AUTH_TOKEN)' } });
      return;
    }
    res.status(401).type('html').send(LOGIN_PAGE(null, safeNext(req.originalUrl)));
  };
}
