// Re-serialisations of a JSON body that senders (or frameworks in front of their signing code)
// commonly sign instead of the bytes they send: other spacing, sorted keys, escaped non-ASCII.
// Only tried to explain a failed check, never on the valid path.
import { nestsWithin } from '../lib/json-depth.ts';

/** Bodies larger than this are not parsed to look for a cause (each try costs HMACs). */
export const MAX_JSON_TRY_BYTES = 256 * 1024;

export interface JsonVariant {
  how: string;
  bytes: Buffer;
}

/** Cheap first test: parsing is only worth it when the body opens like JSON. */
export function looksLikeJson(body: Buffer): boolean {
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    return c === 0x7b || c === 0x5b; // { or [
  }
  return false;
}

/** The body parsed, when it is JSON of at most `max` bytes nesting no deeper than MAX_JSON_DEPTH (see nestsWithin). */
export function parseJsonBody(body: Buffer, max: number): { ok: true; value: unknown } | { ok: false } {
  if (body.length > max || !looksLikeJson(body) || !nestsWithin(body)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

const asciiOnly = (s: string): string => s.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Python's json.dumps defaults: ", " and ": " separators, non-ASCII escaped. */
function pythonDumps(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pythonDumps).join(', ')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.entries(v).map(([k, x]) => `${asciiOnly(JSON.stringify(k))}: ${pythonDumps(x)}`).join(', ')}}`;
  }
  return asciiOnly(JSON.stringify(v));
}

/** PHP's json_encode defaults: compact, "/" and non-ASCII escaped. */
const phpEncode = (v: unknown): string => asciiOnly(JSON.stringify(v)).replace(/\//g, '\\/');

/** Distinct re-serialisations of `value` that differ from `body`, most common first. */
export function* jsonVariants(value: unknown, body: Buffer): Generator<JsonVariant> {
  const sorted = () => sortKeys(value);
  const makers: [string, () => string][] = [
    ['JSON.stringify(JSON.parse(body))', () => JSON.stringify(value)],
    ['JSON.stringify(JSON.parse(body), null, 2)', () => JSON.stringify(value, null, 2)],
    ['json.dumps(json.loads(body)) (Python: ", " and ": " separators)', () => pythonDumps(value)],
    ['JSON.stringify(JSON.parse(body), null, 4)', () => JSON.stringify(value, null, 4)],
    ['JSON.stringify(JSON.parse(body), null, "\\t")', () => JSON.stringify(value, null, '\t')],
    ['json_encode(json_decode(body)) (PHP: "/" and non-ASCII escaped)', () => phpEncode(value)],
    ['the parsed body with sorted keys, compact', () => JSON.stringify(sorted())],
    ['the parsed body with sorted keys, 2-space indent', () => JSON.stringify(sorted(), null, 2)],
    ['json.dumps(json.loads(body), sort_keys=True) (Python)', () => pythonDumps(sorted())],
  ];
  const seen = new Set<string>([body.toString('utf8')]);
  for (const [how, make] of makers) {
    const text = make();
    if (seen.has(text)) continue;
    seen.add(text);
    yield { how, bytes: Buffer.from(text, 'utf8') };
  }
}
