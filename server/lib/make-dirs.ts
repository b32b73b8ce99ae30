// `mkdir -p` without Node's recursive mkdir: under a parent that exists but takes no new
// directories (/proc, some FUSE and network mounts), libuv's recursive mkdir gets ENOENT for the
// child, makes the parent (EEXIST) and tries the child again, forever: the call never answers
// and a thread-pool thread spins at 100 % CPU (Node 20). Here each missing directory is made on
// its own, from the top, and the first failure is thrown as it is.
import type { Stats } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

export async function makeDirs(dir: string, mode: number): Promise<void> {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; ) {
    let st: Stats | null = null;
    try {
      st = await stat(d);
    } catch (e) {
      // ENOTDIR: a directory above is a file; walking up finds it, and names it.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${d}'`), { code: 'ENOTDIR', syscall: 'mkdir', path: d });
      break;
    }
    missing.push(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d, { mode });
    } catch (e) {
      // Made meanwhile (another process starting on it): fine.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}
