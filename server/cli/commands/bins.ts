// hooklab bin new: mint a bin (optionally with a chosen id) and print its receiver URL.
import type { Bin } from '../../../shared/api.ts';
import { type Conn, CliError, callJson } from '../client.ts';

export async function binNew(c: Conn, o: { slug?: string; name?: string; json?: boolean }): Promise<void> {
  let bin: Bin & { warnings?: string[] };
  try {
    bin = await callJson<Bin & { warnings?: string[] }>(c, 'POST', '/api/bins', { ...(o.slug ? { id: o.slug } : {}), ...(o.name ? { name: o.name } : {}) });
  } catch (e) {
    // The API's field names, as the flags that gave them.
    if (e instanceof CliError && e.status === 400) throw new CliError(e.message.replace(/^id:/, '--slug:').replace(/^name:/, '--name:'), e.code, { status: e.status });
    throw e;
  }
  for (const w of bin.warnings ?? []) process.stderr.write(`hooklab: warning: ${w}\n`);
  process.stdout.write(o.json ? `${JSON.stringify(bin)}\n` : `${bin.url}\n`);
}
