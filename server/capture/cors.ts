// CORS for browser senders (a bin's `cors` setting, on by default): a page on another origin
// may POST JSON to a bin and read its answer. Only without credentials: receivers share the
// UI's origin, so hooklab never answers Access-Control-Allow-Credentials.
import type { IncomingHttpHeaders } from 'node:http';

/** An OPTIONS request a browser sends before a non-simple cross-origin request. */
export function isPreflight(method: string, h: IncomingHttpHeaders): boolean {
  return method === 'OPTIONS' && typeof h.origin === 'string' && typeof h['access-control-request-method'] === 'string';
}

// What a browser asks for is echoed back only when it is a plain token list (never a header
// injection, never something odd the browser would reject anyway).
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TOKEN_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;

/** The preflight's answer headers: the origin, method and headers asked for are allowed. */
export function preflightHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {
    'access-control-allow-origin': h.origin as string,
    'access-control-max-age': '600',
    vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
  };
  const method = h['access-control-request-method'] as string;
  if (TOKEN.test(method)) out['access-control-allow-methods'] = method;
  const asked = h['access-control-request-headers'];
  if (typeof asked === 'string' && TOKEN_LIST.test(asked.trim())) out['access-control-allow-headers'] = asked.trim();
  return out;
}

/**
 * Headers for an answer to a request with an Origin (a browser's): that origin may read it, and
 * these headers. A request without one gets none (the receiver does not call this).
 */
export function answerCorsHeaders(origin: string, exposed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = { 'access-control-allow-origin': origin, vary: 'Origin' };
  if (exposed.length) out['access-control-expose-headers'] = exposed.join(', ');
  return out;
}
