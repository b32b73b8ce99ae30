// DATA_DIR's birth time tells a directory removed and made again (same inode on ext4) from the
// one hooklab started on, but only where the file system really keeps one: without statx
// (old Docker seccomp profiles, WSL1) Node reports ctime as the birth time, which moves with
// every file made inside, and every write was refused as "made again".
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirIdentity, realBirth } from '../../server/store/disk/data-dir-identity.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('realBirth', () => {
  it('is none where the birth time is the change time (Node without statx) or 0 (not kept)', () => {
    expect(realBirth({ birthtimeMs: 1700000000123.5, ctimeMs: 1700000000123.5 })).toBe(0);
    expect(realBirth({ birthtimeMs: 0, ctimeMs: 1700000000123.5 })).toBe(0);
  });

  it('is the birth time where it is older than the last change', () => {
    expect(realBirth({ birthtimeMs: 1700000000000.25, ctimeMs: 1700000000123.5 })).toBe(1700000000000.25);
  });
});

describe('DataDirIdentity', () => {
  it('files made and removed inside DATA_DIR after start-up never read as another directory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hooklab-birth-'));
    dirs.push(dir);
    await writeFile(path.join(dir, 'probe'), 'x');
    const id = await DataDirIdentity.remember(dir);
    for (let i = 0; i < 5; i++) {
      await writeFile(path.join(dir, `f${i}`), 'x');
      await rm(path.join(dir, `f${i}`));
      await new Promise((r) => setTimeout(r, 5));
    }
    expect((await stat(dir)).ctimeMs).toBeGreaterThan(0);
    await expect(id.check()).resolves.toBeUndefined();
  });
});
