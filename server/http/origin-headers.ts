// Response headers that change what a whole origin may do: cookies, CSP, HSTS, service-worker
// scope, isolation, reporting, alternative services. Receiver URLs share the UI's origin, so a
// bin sending one of these (a Set-Cookie, a relaxed CSP) would act for hooklab itself when a
// signed-in user opens the bin's URL. The one list: the response validator refuses them (400)
// and the receiver never sends them (settings saved by an earlier build may still hold some).

export const ORIGIN_HEADERS: ReadonlySet<string> = new Set([
  'set-cookie',
  'set-cookie2',
  'content-security-policy',
  'content-security-policy-report-only',
  'clear-site-data',
  'strict-transport-security',
  'service-worker-allowed',
  'x-content-type-options',
  'refresh',
  'origin-agent-cluster',
  'cross-origin-opener-policy',
  'cross-origin-embedder-policy',
  'permissions-policy',
  'feature-policy',
  'document-policy',
  'nel',
  'report-to',
  'reporting-endpoints',
  'alt-svc',
  'x-frame-options',
  'x-xss-protection',
  // Obsolete or niche, but also remembered for (or applied to) the whole origin.
  'public-key-pins',
  'public-key-pins-report-only',
  'expect-ct',
  'accept-ch',
  'critical-ch',
  'x-permitted-cross-domain-policies',
]);

export const isOriginHeader = (name: string): boolean => ORIGIN_HEADERS.has(name.toLowerCase());

export const ORIGIN_HEADER_REASON =
  "cannot be set by a bin: it would change what hooklab's own origin allows (cookies/CSP/HSTS/…); receiver URLs share the UI's origin";
