// hooklab bin new: mint a bin (optionally with a chosen id) and print its receiver URL.
import type { Bin } from '../../../shared/api.ts';
import { type Conn, callJson } from '../client.ts';

export async function binNew(c: Conn, o: { slug?: string; name?: string; json?: boolean }): Promise<void> {
  const bin = await callJson<Bin & { warnings?: string[] }>(c, 'POST', '/api/bins', { ...(o.slug ? { id: o.slug } : {}), ...(o.name ? { name: o.name } : {}) });
  for (const w of bin.warnings ?? []) process.stderr.write(`hooklab: warning: ${w}\n`);
  process.stdout.write(o.json ? `${JSON.stringify(bin)}\n` : `${bin.url}\n`);
}
