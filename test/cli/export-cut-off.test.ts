// `hooklab export` when the server cuts the export off part way (a capture it cannot read: its
// body file cut short under it). The server's last line says why; the CLI said "lost the
// connection" and left --out holding part of the export under its name, looking complete. It
// must tell the server's reason and code (exit 3), leave nothing at --out (a file there before
// stays as it was), and keep the server's line out of what it wrote. Real server process,
// real files, the CLI as a process.
import { readFile, readdir, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as hooklab } from '../helpers/cli.ts';
import { send } from '../helpers/http.ts';
import { untilNoFilesOpenUnder } from '../helpers/open-files.ts';
import { createBin } from '../helpers/server.ts';
import { spawnedServers } from '../helpers/spawned.ts';

const servers = spawnedServers();

describe('hooklab export cut off by the server', () => {
  it("says the server's reason and code, exit 3; nothing is left at --out; stdout gets the whole captures only", async () => {
    const d = await servers.dataDir('hooklab-export-cut-');
    // No cache: every read goes to the files.
    const p = await servers.start({ DATA_DIR: d, FLUSH_INTERVAL_MS: '50', CACHE_BYTES: '0' });
    const bin = await createBin(p.base);
    for (const n of [0, 1, 2]) expect((await send(`${p.base}/h/${bin.id}/r${n}`, { body: `body number ${n}` })).status).toBe(200);
    const body = path.join(d, 'bins', bin.id, '00000000.body');
    await untilNoFilesOpenUnder(p.proc.pid!, d, 'body number 2');
    // The first capture's body stays whole; the second's and third's are cut away.
    const bytes = await readFile(body);
    await truncate(body, bytes.indexOf('body number 1'));

    const out = path.join(d, 'export.ndjson');
    await writeFile(out, 'an export from before\n');
    const cut = new RegExp(`^hooklab: hooklab at ${p.base.replace(/[.]/g, '\\.')} cut the export off: .+ \\(storage_unavailable\\); `);
    for (const format of ['ndjson', 'har']) {
      const r = await hooklab(p.base, ['export', bin.id, '--format', format, '--out', out]);
      expect({ format, code: r.code, stderr: r.stderr }).toEqual({ format, code: 3, stderr: r.code === 3 ? r.stderr : '' });
      expect(r.stderr).toMatch(cut);
      expect(r.stderr).toMatch(new RegExp(`; nothing was written to ${out.replace(/[.]/g, '\\.')}\\n$`));
      expect(r.stderr.split('\n')).toHaveLength(2); // one line
      expect(r.stderr).not.toMatch(/lost the connection/);
      expect(await readFile(out, 'utf8')).toBe('an export from before\n');
      expect((await readdir(d)).filter((f) => f.startsWith('export'))).toEqual(['export.ndjson']); // no .partial left
    }

    const r = await hooklab(p.base, ['export', bin.id]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(cut);
    expect(r.stderr).toMatch(/; what went to stdout is incomplete\n$/);
    const lines = r.stdout.split('\n');
    expect(lines.at(-1)).toBe(''); // ends with a whole line
    expect(lines.slice(0, -1).map((l) => (JSON.parse(l) as { path: string }).path)).toEqual(['/r0']);

    // A whole export still lands under its name, nothing left beside it.
    const other = await createBin(p.base);
    await send(`${p.base}/h/${other.id}/fine`, { body: 'fine' });
    const whole = path.join(d, 'export-whole.ndjson');
    const ok = await hooklab(p.base, ['export', other.id, '--out', whole]);
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(await readFile(whole, 'utf8'))).toMatchObject({ path: '/fine', body: Buffer.from('fine').toString('base64') });
    expect((await readdir(d)).filter((f) => f.startsWith('export-whole'))).toEqual(['export-whole.ndjson']);
  });
});
