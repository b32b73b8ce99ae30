// A small tmpfs for a test's DATA_DIR, mounted for real (root only: chmod does not stop root,
// so a full or read-only disk is made this way). As disk-faults.test.ts does; for new tests.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Tmpfs {
  dir: string;
  remount(opts: string): void;
  /** Unmount and remove; never throws (for finally blocks). */
  dispose(): Promise<void>;
}

export async function mountTmpfs(sizeKb: number): Promise<Tmpfs> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hooklab-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', dir]);
  return {
    dir,
    remount: (opts) => void execFileSync('mount', ['-o', `remount,${opts}`, dir]),
    async dispose() {
      try {
        execFileSync('umount', [dir]);
      } catch {
        // not mounted (any more)
      }
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    },
  };
}
