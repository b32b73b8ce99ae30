// The request list's search, as it lives in the page URL (?method=POST&path=/hooks&status=5xx
// &header=x-github-event:push&key=msg_1&q=text): the same names and meaning as the API's search, so a
// filtered view is one shareable address, reload keeps it and back/forward move through it.
import type { RequestItem } from '../../../shared/api.ts';
import { statusMatches } from '../../../shared/status-filter.ts';

export interface RequestFilter {
  method?: string;
  path?: string;
  status?: string;
  /** A header name (present) or name:value (equal). */
  header?: string;
  /** The sender's idempotency key (exact): a message and its retries. */
  key?: string;
  /** Text in the body. */
  q?: string;
}

export const FILTER_KEYS = ['method', 'path', 'status', 'header', 'key', 'q'] as const;

export function filterFromSearch(s: URLSearchParams): RequestFilter {
  const f: RequestFilter = {};
  for (const k of FILTER_KEYS) {
    const v = s.get(k)?.trim();
    if (v) f[k] = v;
  }
  return normalizeFilter(f);
}

/**
 * What a person means: a sub-path is searched from its leading slash (a capture's path always
 * has one, so "orders" would match nothing: it is "/orders"), a status class in any case (5XX),
 * a method in any case (shown as the server matches it, in capitals).
 */
export function normalizeFilter(f: RequestFilter): RequestFilter {
  const out: RequestFilter = { ...f };
  const method = f.method?.trim();
  if (method) out.method = method.toUpperCase();
  const path = f.path?.trim();
  if (path && !path.startsWith('/')) out.path = `/${path}`;
  const st = f.status?.trim();
  if (st && /^[1-5]xx$/i.test(st)) out.status = st.toLowerCase();
  return out;
}

export function filterParams(f: RequestFilter): URLSearchParams {
  const p = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const v = f[k]?.trim();
    if (v) p.set(k, v);
  }
  return p;
}

/** "?method=POST&q=x", or "" for no filter. */
export function filterSearch(f: RequestFilter): string {
  const s = filterParams(f).toString();
  return s ? `?${s}` : '';
}

export const isEmptyFilter = (f: RequestFilter): boolean => FILTER_KEYS.every((k) => !f[k]?.trim());

export const sameFilter = (a: RequestFilter, b: RequestFilter): boolean => filterSearch(a) === filterSearch(b);

/** The filter needs headers or the body, which a live row does not carry: only the server can tell. */
export const needsServer = (f: RequestFilter): boolean => !!(f.header?.trim() || f.q?.trim());

/** Does a list row pass the parts of the filter a row can answer (as the server decides them)? */
export function matchesRow(f: RequestFilter, r: RequestItem): boolean {
  const key = f.key?.trim();
  if (key && r.idempotencyKey !== key) return false;
  if (f.method && r.method.toUpperCase() !== f.method.trim().toUpperCase()) return false;
  if (f.path && !r.path.startsWith(f.path.trim())) return false;
  const st = f.status?.trim();
  if (st && !statusMatches(st, r)) return false;
  return true;
}

/** A short description for the list's empty state: "POST, path /hooks*, body contains "x"". */
export function describeFilter(f: RequestFilter): string {
  const parts: string[] = [];
  if (f.method) parts.push(f.method.toUpperCase());
  if (f.path) parts.push(`path ${f.path}*`);
  if (f.status) parts.push(`status ${f.status}`);
  if (f.header) parts.push(`header ${f.header}`);
  if (f.key) parts.push(`idempotency key ${f.key}`);
  if (f.q) parts.push(`body contains “${f.q}”`);
  return parts.join(', ');
}

/** A key short enough for a list row: "msg_2Lq4Hb…9xQz" (the whole key goes in a title). */
export function shortKey(key: string, max = 16): string {
  if (key.length <= max) return key;
  const tail = 4;
  return `${key.slice(0, max - tail - 1)}…${key.slice(-tail)}`;
}
