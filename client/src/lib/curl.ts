// "Copy as cURL" for a captured request, and the ready-made example for a bin. Pure.
import type { HeaderPair } from '../../../shared/api.ts';

/** Quote for a POSIX shell: single quotes, with ' written as '\''. */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_\-.,:/@%+=]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Headers curl computes itself or that describe the hop, not the request. */
const SKIP = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer', 'proxy-connection']);

export interface CurlInput {
  method: string;
  /** Full URL to send to (receiver URL + path + query). */
  url: string;
  headers: HeaderPair[];
  /** The body as text, or null when it is binary (see bodyFile). */
  bodyText: string | null;
  /** Size of the body in bytes. */
  size: number;
  /** The name "Download raw body" saves it as (shared/filename.ts). */
  bodyFile: string;
  truncated: boolean;
}

/** One command per line, joined with backslash-newline. */
export function toCurl(r: CurlInput): string {
  const hasBody = r.size > 0;
  const method = r.method.toUpperCase();
  const sameAsDefault = (method === 'GET' && !hasBody) || (method === 'POST' && hasBody);
  const args: string[] = [`curl ${sameAsDefault ? '' : `-X ${shellQuote(method)} `}${shellQuote(r.url)}`];
  for (const [name, value] of r.headers) {
    if (SKIP.has(name.toLowerCase())) continue;
    args.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  }
  const notes: string[] = [];
  if (hasBody) {
    if (r.bodyText !== null && !r.bodyText.includes('\0')) {
      args.push(`--data-binary ${shellQuote(r.bodyText)}`);
    } else {
      notes.push(`# The body is binary: save it first with "Download raw body" (${r.bodyFile})`);
      args.push(`--data-binary @${shellQuote(r.bodyFile)}`);
    }
    if (r.truncated) notes.push(`# Only the first bytes of this body were stored; the original was ${r.size} bytes.`);
  }
  return [...notes, args.join(' \\\n  ')].join('\n');
}

/** The example shown under a bin's URL. */
export function exampleCurl(binUrl: string): string {
  return `curl -X POST ${shellQuote(binUrl)} \\\n  -H 'Content-Type: application/json' \\\n  -d '{"event":"hello","id":1}'`;
}
