// `hooklab export --out FILE` writes FILE.partial and renames it once whole. An export holds
// captured secrets (Authorization headers, signed bodies): a FILE made 0600 must stay 0600,
// a FILE that is a symlink must have its target written (the link kept), and a Ctrl-C midway
// must not leave the .partial behind. Real server process, real files, the CLI as a process.
import { chmod, lstat, mkdir, readFile, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli as run } from '../helpers/cli.ts';
import { send } from '../helpers/http.ts';
import { createBin } from '../helpers/server.ts';
import { spawnedServers } from '../helpers/spawned.ts';
import { until } from '../helpers/until.ts';

const servers = spawnedServers();

describe('hooklab export --out', () => {
  it('keeps a file’s mode, writes a symlink’s target and keeps the link', async () => {
    const d = await servers.dataDir('hooklab-export-out-');
    const p = await servers.start({ DATA_DIR: d });
    const bin = await createBin(p.base);
    expect((await send(`${p.base}/h/${bin.id}/x`, { headers: { authorization: 'Bearer s3cret' }, body: 'signed' })).status).toBe(200);

    const locked = path.join(d, 'locked.ndjson');
    await writeFile(locked, '');
    await chmod(locked, 0o600);
    expect((await run(p.base, ['export', bin.id, '--out', locked]).done).code).toBe(0);
    expect((await stat(locked)).mode & 0o777).toBe(0o600);
    expect(await readFile(locked, 'utf8')).toContain('s3cret');

    await mkdir(path.join(d, 'real'));
    const target = path.join(d, 'real', 'export.ndjson');
    await writeFile(target, '');
    await chmod(target, 0o640);
    const link = path.join(d, 'link.ndjson');
    await symlink(target, link);
    expect((await run(p.base, ['export', bin.id, '--out', link]).done).code).toBe(0);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(target);
    expect(await readFile(target, 'utf8')).toContain('s3cret');
    expect((await stat(target)).mode & 0o777).toBe(0o640);
    expect((await readdir(d)).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('Ctrl-C midway leaves no .partial, and a file there before as it was', async () => {
    const d = await servers.dataDir('hooklab-export-int-');
    const p = await servers.start({ DATA_DIR: d });
    const bin = await createBin(p.base);
    // Large enough that the export is still coming once the server is paused (see below).
    const mb = Buffer.alloc(1024 * 1024, 'a');
    for (let i = 0; i < 40; i++) expect((await send(`${p.base}/h/${bin.id}/big/${i}`, { body: mb })).status).toBe(200);
    const out = path.join(d, 'export.ndjson');
    await writeFile(out, 'an export from before\n');
    const partial = `${out}.partial`;
    const cli = run(p.base, ['export', bin.id, '--out', out]);
    try {
      await until(async () => (await stat(partial).catch(() => null)) !== null, 'the .partial file');
      // The server paused: the export cannot end before the signal comes.
      p.proc.kill('SIGSTOP');
      cli.proc.kill('SIGINT');
      const r = await cli.done;
      expect(r.code).toBe(130);
    } finally {
      p.proc.kill('SIGCONT');
    }
    expect(await stat(partial).catch(() => null)).toBeNull();
    expect(await readFile(out, 'utf8')).toBe('an export from before\n');
  });
});
