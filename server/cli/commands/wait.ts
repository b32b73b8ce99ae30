// hooklab wait: block until a capture matching the filters arrives (or already did), print it
// as JSON and exit 0; exit 1 on timeout. For shell scripts and CI.
import type { RequestDetail } from '../../../shared/api.ts';
import { type Conn, CliError, EXIT, binIdOf, call } from '../client.ts';

export interface WaitOptions {
  method?: string;
  path?: string;
  header?: string[];
  q?: string;
  key?: string;
  after?: string;
  timeout: string;
}

export async function wait(c: Conn, bin: string, o: WaitOptions): Promise<void> {
  const q = new URLSearchParams();
  if (o.method) q.set('method', o.method);
  if (o.path) q.set('path', o.path);
  for (const h of o.header ?? []) q.append('header', h);
  if (o.q) q.set('q', o.q);
  if (o.key) q.set('key', o.key);
  if (o.after) q.set('after', o.after);
  q.set('timeout', o.timeout);
  const res = await call(c, 'GET', `/api/bins/${binIdOf(bin)}/requests/wait?${q}`, { ok: [408] });
  if (res.status === 408) throw new CliError(`no matching request within ${o.timeout}`, EXIT.negative);
  const detail = (await res.json()) as RequestDetail;
  process.stdout.write(`${JSON.stringify(detail)}\n`);
}
