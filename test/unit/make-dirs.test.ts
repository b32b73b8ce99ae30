// makeDirs: `mkdir -p` made one directory at a time (see server/lib/make-dirs.ts).
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDirs } from '../../server/lib/make-dirs.ts';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const temp = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'make-dirs-'));
  dirs.push(d);
  return d;
};

describe('makeDirs', () => {
  it('makes every missing directory with the mode given, and is fine with one that exists', async () => {
    const d = await temp();
    const deep = path.join(d, 'a', 'b', 'c');
    await makeDirs(deep, 0o700);
    for (const p of [path.join(d, 'a'), path.join(d, 'a', 'b'), deep]) expect((await stat(p)).mode & 0o777).toBe(0o700);
    await makeDirs(deep, 0o700);
    await makeDirs(d, 0o700);
  });

  it('a path through a file: ENOTDIR naming it', async () => {
    const d = await temp();
    await writeFile(path.join(d, 'f'), 'x');
    await expect(makeDirs(path.join(d, 'f'), 0o700)).rejects.toMatchObject({ code: 'ENOTDIR', path: path.join(d, 'f') });
    // The file is named, not the path asked for.
    await expect(makeDirs(path.join(d, 'f', 'sub', 'deeper'), 0o700)).rejects.toMatchObject({ code: 'ENOTDIR', path: path.join(d, 'f') });
  });

  it('under /proc, which takes no new directories: ENOENT for the first one, at once', async () => {
    await expect(makeDirs('/proc/hooklab-make-dirs/x', 0o700)).rejects.toMatchObject({ code: 'ENOENT', path: '/proc/hooklab-make-dirs' });
  });
});
