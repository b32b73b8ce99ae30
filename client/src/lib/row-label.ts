// What a captured request is about, for its list row: "sync_end · attempt 3" for one the
// dispatcher sent, else the payload's own name for itself (a JSON body's `event`, `type` or
// `action`, or GitHub's X-GitHub-Event header), rather than only "POST /". Pure.
import type { HeaderPair, RequestItem } from '../../../shared/api.ts';

const MAX = 80;

const clip = (s: string) => (s.length > MAX ? `${s.slice(0, MAX - 1)}…` : s);

function nameOf(v: unknown): string | null {
  if (typeof v === 'string' && v.trim()) return v.trim();
  // Slack's event_callback: {"event": {"type": "message"}}
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { type?: unknown }).type === 'string') return (v as { type: string }).type;
  return null;
}

/** From a JSON body (already parsed) and the headers, when they say. */
export function labelFrom(body: unknown, headers: readonly HeaderPair[] | null): string | null {
  const gh = headers?.find(([n]) => n.toLowerCase() === 'x-github-event')?.[1]?.trim();
  const obj = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  const action = obj ? nameOf(obj.action) : null;
  if (gh) return clip(action ? `${gh} · ${action}` : gh);
  if (!obj) return null;
  const name = nameOf(obj.event) ?? nameOf(obj.type) ?? action;
  return name ? clip(name) : null;
}

/** The dispatcher's own label: certain, no fetch needed. */
export function dispatchLabel(r: RequestItem): string | null {
  return r.dispatch ? `${r.dispatch.event ?? 'event'} · attempt ${r.dispatch.attempt ?? '?'}` : null;
}

/** From the headers alone (rows from pages carry them; live rows do not). */
export function headerLabel(r: RequestItem): string | null {
  const headers = (r as RequestItem & { headers?: HeaderPair[] }).headers;
  return headers ? labelFrom(null, headers) : null;
}

/** Worth fetching the body for a label: a small JSON body. */
export function mayHaveLabel(r: RequestItem, maxBytes: number): boolean {
  if (r.dispatch || r.size === 0 || r.size > maxBytes || r.truncated) return false;
  const t = (r.contentType ?? '').split(';')[0].trim().toLowerCase();
  return t === 'application/json' || t.endsWith('+json') || t === 'text/json';
}
