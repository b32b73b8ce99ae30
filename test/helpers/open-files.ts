// Which files a server process holds open, from /proc (Linux). The store closes a bin's files
// once nothing is left to write: a test that swaps a directory or remounts DATA_DIR waits for
// that instead of sleeping a guessed while (a remount read-only fails while a file is open for writing).
import { readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

export async function openFilesUnder(pid: number, dir: string): Promise<string[]> {
  const fdDir = `/proc/${pid}/fd`;
  const prefix = path.resolve(dir) + path.sep;
  const open: string[] = [];
  for (const fd of await readdir(fdDir)) {
    const target = await readlink(path.join(fdDir, fd)).catch(() => null); // closed meanwhile
    if (target?.startsWith(prefix)) open.push(target);
  }
  return open;
}

/** Whether some file under `dir` (at any depth) holds `bytes`. */
async function someFileHolds(dir: string, bytes: string): Promise<boolean> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []); // not made yet
  for (const e of entries) {
    if (!e.isFile()) continue;
    const data = await readFile(path.join(e.parentPath, e.name)).catch(() => null); // renamed meanwhile
    if (data?.includes(bytes)) return true;
  }
  return false;
}

/**
 * Resolves once `pid` holds nothing open under `dir` and, when `written` is given, a file there
 * holds those bytes (a capture acknowledged is written a flush later; no open file alone could
 * mean the flush has not begun). Throws after `ms` saying what it waited for.
 */
export async function untilNoFilesOpenUnder(pid: number, dir: string, written?: string, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  for (;;) {
    const onDisk = written === undefined || (await someFileHolds(dir, written));
    const open = await openFilesUnder(pid, dir);
    if (onDisk && !open.length) return;
    if (performance.now() > end) throw new Error(`after ${ms} ms: ${onDisk ? '' : `"${written}" not written; `}open: ${open.join(', ') || 'none'}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
