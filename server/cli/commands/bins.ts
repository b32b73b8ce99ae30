// hooklab bin new | list | delete: mint a bin (optionally with a chosen id) and print its
// receiver URL; list the server's bins; delete bins (a CI job's clean-up).
import type { Bin } from '../../../shared/api.ts';
import { type Conn, CliError, EXIT, binIdOf, call, callJson, isNoSuchBin } from '../client.ts';
import { clockTime } from '../clock-time.ts';

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

/** When a bin was last sent to: today's as a time of day, older ones with their date (local time). */
function lastSeen(iso: string | null, now = new Date()): string {
  if (!iso) return 'never';
  const d = new Date(iso);
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  if (sameDay) return clockTime(iso).slice(0, 8);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** One line per bin, newest first: id, request count, last request, name, receiver URL. NDJSON with --json. */
export async function binList(c: Conn, o: { json?: boolean }): Promise<void> {
  const { bins } = await callJson<{ bins: Bin[] }>(c, 'GET', '/api/bins');
  if (o.json) {
    process.stdout.write(bins.map((b) => `${JSON.stringify(b)}\n`).join(''));
    return;
  }
  if (!bins.length) {
    process.stderr.write(`no bins on ${c.server} (\`hooklab bin new\` makes one)\n`);
    return;
  }
  // A name may hold line breaks or escape sequences: shown, not obeyed by the terminal.
  const shown = (name: string) => name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  const rows = bins.map((b) => [b.id, String(b.requestCount), lastSeen(b.lastRequestAt), shown(b.name), b.url]);
  const head = ['ID', 'REQUESTS', 'LAST', 'NAME', 'URL'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]))).join('  ');
  process.stdout.write([fmt(head), ...rows.map(fmt)].join('\n') + '\n');
}

/**
 * Deletes each bin given (its captures and settings go with it), saying so per bin. A bin that
 * is not there is an error (exit 2) unless --missing-ok, which a clean-up step wants (a rerun
 * after a partial one). The others are still deleted; the exit code is the worst seen.
 */
export async function binDelete(connOf: (bin: string) => Conn, bins: string[], o: { missingOk?: boolean }): Promise<void> {
  // Every argument checked before any is deleted; one bin named twice is deleted once.
  const byKey = new Map<string, readonly [Conn, string]>();
  for (const b of bins) {
    const id = binIdOf(b);
    const c = connOf(b);
    byKey.set(`${c.server} ${id}`, [c, id]);
  }
  const ids = [...byKey.values()];
  let failed = 0;
  let worst = 0;
  for (const [c, id] of ids) {
    try {
      await call(c, 'DELETE', `/api/bins/${id}`);
      process.stdout.write(`deleted ${id}\n`);
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      // Only the server's own "bin not found": a 404 of another server (a wrong --server, a
      // proxy path) is not a bin already deleted.
      const gone = isNoSuchBin(e);
      if (gone && o.missingOk) {
        process.stdout.write(`${id}: not there (already deleted?)\n`);
        continue;
      }
      const err = gone ? new CliError(`there is no bin ${id} on ${c.server} (--missing-ok lets a clean-up go on past it)`, EXIT.usage, { status: 404 }) : e;
      if (ids.length === 1) throw err;
      process.stderr.write(`hooklab: ${id}: ${err.message}\n`);
      failed++;
      worst = Math.max(worst, err.code);
    }
  }
  // Each failure was said above; the process ends with the worst one's code.
  if (failed) throw new CliError(`${failed} of ${ids.length} bins not deleted (see above)`, worst);
}
