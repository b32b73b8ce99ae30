// What a captured request is about, for its list row: "sync_end · attempt 3" for one the
// dispatcher sent, else the payload's own name for itself (a JSON body's `event`, `type` or
// `action`, or GitHub's X-GitHub-Event header), rather than only "POST /". A bin may name its
// own sources instead (`labelFrom`: json:<dot.path>, header:<name>, first with a value wins;
// the built-in rules when none has one). Pure.
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
  return isJson(r);
}

// ------------------------------------------------------------------- a bin's own sources

/** The built-in rules, in words (the editor's hint). */
export const DEFAULT_RULES = "the dispatcher's event and attempt, X-GitHub-Event (with the body's action), then the JSON body's event, type or action";

const headersOf = (r: RequestItem): HeaderPair[] | null => (r as RequestItem & { headers?: HeaderPair[] }).headers ?? null;

/** The value at a dot path ("data.object.type", "items.0.kind"); array items by index. */
export function valueAt(body: unknown, path: string): unknown {
  let v = body;
  for (const seg of path.split('.')) {
    if (Array.isArray(v)) {
      if (!/^\d+$/.test(seg)) return undefined;
      v = v[Number(seg)];
    } else if (v && typeof v === 'object') {
      v = Object.hasOwn(v, seg) ? (v as Record<string, unknown>)[seg] : undefined;
    } else return undefined;
  }
  return v;
}

function asLabel(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() || null;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  if (typeof v === 'boolean') return String(v);
  return null;
}

/**
 * The first source with a value: a non-empty string, or a number or boolean as text.
 * `body` undefined: not known (yet), so json: sources have nothing to say.
 */
export function labelBySources(sources: readonly string[], body: unknown, headers: readonly HeaderPair[] | null): string | null {
  for (const src of sources) {
    let v: string | null = null;
    if (src.startsWith('json:')) {
      if (body !== undefined) v = asLabel(valueAt(body, src.slice(5)));
    } else if (src.startsWith('header:')) {
      const name = src.slice(7).toLowerCase();
      v = asLabel(headers?.find(([n]) => n.toLowerCase() === name)?.[1]);
    }
    if (v) return clip(v);
  }
  return null;
}

const active = (sources: readonly string[] | null | undefined) => (sources?.length ? sources : null);

/** What the row alone tells (no body; headers only on rows from pages), under the bin's sources. */
export function quickLabel(r: RequestItem, sources?: readonly string[] | null): string | null {
  const own = active(sources);
  return (own ? labelBySources(own, undefined, headersOf(r)) : null) ?? dispatchLabel(r) ?? headerLabel(r);
}

/** The label once the capture's detail is known (`body` parsed, or null when it is not JSON). */
export function fullLabel(r: RequestItem, sources: readonly string[] | null | undefined, body: unknown, headers: readonly HeaderPair[]): string | null {
  const own = active(sources);
  return (own ? labelBySources(own, body, headers) : null) ?? dispatchLabel(r) ?? labelFrom(body, headers);
}

const isJson = (r: RequestItem) => {
  const t = (r.contentType ?? '').split(';')[0].trim().toLowerCase();
  return t === 'application/json' || t.endsWith('+json') || t === 'text/json';
};

/**
 * Worth fetching the detail for: a small JSON body the rules may read, or, for a bin with
 * header: sources, the headers a live row does not carry (bodies up to `maxHeaderFetch`).
 */
export function needsDetail(r: RequestItem, maxBytes: number, sources?: readonly string[] | null, maxHeaderFetch = 1024 * 1024): boolean {
  const own = active(sources);
  if (!own) return mayHaveLabel(r, maxBytes);
  if (!headersOf(r) && r.size <= maxHeaderFetch && own.some((s) => s.startsWith('header:'))) return true;
  // The JSON body: for json: sources, and for the built-in rules when none has a value.
  return r.size > 0 && r.size <= maxBytes && !r.truncated && isJson(r);
}

/** "json:type, header:x-event" → ["json:type", "header:x-event"] (what the editor sends). */
export function parseSources(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export const formatSources = (sources: readonly string[] | null | undefined) => (sources ?? []).join(', ');
