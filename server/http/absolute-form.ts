// A request target in absolute form ("POST http://host/h/abc HTTP/1.1"), which an origin server
// must accept (RFC 9112, 3.2.2): as proxies send it, and some senders do. Node passes it as the
// URL as written, so a receiver URL was not recognised (404 from Express, or the UI's page for
// a GET: the sender saw it delivered and nothing was captured).

/** The origin form ("/h/abc?x=1", as written) and the authority of an absolute-form target; null for any other form. */
export function fromAbsoluteForm(url: string): { target: string; authority: string } | null {
  const m = /^https?:\/\//i.exec(url);
  if (!m) return null;
  const rest = url.slice(m[0].length);
  const end = rest.search(/[/?]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const tail = end === -1 ? '' : rest.slice(end);
  return { target: tail.startsWith('/') ? tail : `/${tail}`, authority };
}

/**
 * Turn an absolute-form request into the origin form every handler expects; the authority
 * replaces Host, as the RFC says (so the Host check judges the name that was asked for).
 * The capture's raw headers keep the Host as sent.
 */
export function normalizeAbsoluteForm(req: { url?: string; headers: Record<string, unknown> }): void {
  // Nearly every request is in origin form ("/…"): no pattern run for it.
  if (!req.url || req.url.charCodeAt(0) === 47) return;
  const a = fromAbsoluteForm(req.url);
  if (!a) return;
  req.url = a.target;
  if (a.authority) req.headers.host = a.authority.slice(a.authority.lastIndexOf('@') + 1);
}
