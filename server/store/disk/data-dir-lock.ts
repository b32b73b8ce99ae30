// One hooklab per DATA_DIR. Two processes on the same directory each append to the journals
// at the offsets they know, overwrite each other's lines, and the next start-up reads a bin
// list that no longer matches bins/. So the disk store holds DATA_DIR/hooklab.lock while it
// runs: created with O_EXCL, holding who took it ({"pid","host",...}), removed on a clean stop
// (and when the process exits in any way Node sees).
//
// A lock left behind (SIGKILL, a crash, a power cut) is stale and taken over, with a log line:
//   - same host: its pid is not running, or is running but is another process than the one
//     that took the lock (Linux: its start time differs, or the machine was rebooted since),
//     or is our own pid (a restarted container gets the same pid) not held by this process;
//   - another host (a volume shared between machines or containers, where pids mean nothing
//     here): its holder refreshes the file's mtime every HEARTBEAT_MS; unrefreshed for
//     FOREIGN_STALE_MS, it is stale.
// One process may open several stores on one DATA_DIR (tests do): they share the hold.
// Two processes starting at the same instant on the same stale lock could both take it over
// (the check and the replacement are two steps); one started on a held lock never does.
import { constants, unlinkSync } from 'node:fs';
import { type FileHandle, open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FILE_MODE } from './files.ts';
import { heldWith, type LockHolder, parseHolder, staleOnThisHost, thisProcess } from '../../lib/lock-holder.ts';

export const LOCK_FILE = 'hooklab.lock';
/** How often the holder refreshes the lock's mtime (for hooklabs on other hosts sharing the directory). */
export const HEARTBEAT_MS = 10_000;
/** A lock from another host not refreshed for this long is stale. */
export const FOREIGN_STALE_MS = 60_000;
/** An empty or unreadable lock may be one being written this instant: looked at again for up to this long. */
const UNREADABLE_GRACE_MS = 1_000;

/** DATA_DIR is held by another running hooklab (start-up refuses). */
export class DataDirLockedError extends Error {}

const held = new Map<string, { token: string; count: number; timer: NodeJS.Timeout }>();
let exitHook = false;

/** Whether the process that took `l` may still run; else why it is stale. */
function judge(l: LockHolder, mtimeMs: number, now: number): { alive: true } | { alive: false; why: string } {
  if (l.host !== os.hostname()) {
    const age = now - mtimeMs;
    return age < FOREIGN_STALE_MS ? { alive: true } : { alive: false, why: `not refreshed for ${Math.round(age / 1000)} s` };
  }
  const why = staleOnThisHost(l);
  return why === null ? { alive: true } : { alive: false, why };
}

async function createExclusive(file: string, info: LockHolder): Promise<void> {
  const fh: FileHandle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, FILE_MODE);
  try {
    await fh.writeFile(JSON.stringify(info) + '\n');
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(file).catch(() => {});
    throw err;
  }
  await fh.close();
}

export class DataDirLock {
  private released = false;
  private constructor(private readonly key: string) {}

  /**
   * Take DATA_DIR's lock, or throw DataDirLockedError when another running hooklab holds it.
   * `onStale` hears about a lock left by one that is gone (taken over).
   */
  static async acquire(dataDir: string, onStale: (message: string) => void): Promise<DataDirLock> {
    const file = path.join(dataDir, LOCK_FILE);
    const key = path.resolve(file);
    const mine = held.get(key);
    if (mine) {
      mine.count++;
      return new DataDirLock(key);
    }
    const firstLook = Date.now();
    for (let attempt = 0; ; attempt++) {
      const info = thisProcess();
      try {
        await createExclusive(file, info);
        const timer = setInterval(() => {
          const t = new Date();
          void utimes(file, t, t).catch(() => {});
        }, HEARTBEAT_MS);
        timer.unref();
        held.set(key, { token: info.token, count: 1, timer });
        if (!exitHook) {
          exitHook = true;
          process.on('exit', () => {
            for (const k of [...held.keys()]) releaseNow(k);
          });
        }
        return new DataDirLock(key);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 50) throw e;
      }
      let text: string;
      let mtimeMs: number;
      try {
        text = await readFile(file, 'utf8');
        mtimeMs = (await stat(file)).mtimeMs;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
        throw e;
      }
      const other = parseHolder(text);
      let why: string;
      if (!other) {
        // Being written this instant (created, not yet filled), or left so by a crash.
        if (Date.now() - firstLook < UNREADABLE_GRACE_MS) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        why = 'it names no process';
      } else {
        const v = judge(other, mtimeMs, Date.now());
        if (v.alive) {
          const where = other.host === os.hostname() ? '' : ` on host ${other.host}`;
          throw new DataDirLockedError(
            `DATA_DIR ${dataDir} is in use by another hooklab (pid ${other.pid}${where}, since ${other.startedAt}; lock file ${file}). ` +
              "Two processes on one DATA_DIR overwrite each other's files: stop that one, or point DATA_DIR elsewhere" +
              (where ? `; if it is gone, its lock counts as stale ${FOREIGN_STALE_MS / 1000} s after it stopped` : '') +
              '.',
          );
        }
        why = v.why;
      }
      onStale(`Taking over DATA_DIR's lock ${file}, left by ${other ? `pid ${other.pid} (since ${other.startedAt})` : 'a process'}: ${why}. The last run did not stop cleanly.`);
      // Removed only if it is still the one judged (another starter may have replaced it).
      const now = await readFile(file, 'utf8').catch(() => null);
      if (now === text) await unlink(file).catch(() => {});
    }
  }

  /** Let go (the store stopped). The file goes once every store of this process on the DATA_DIR let go. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const h = held.get(this.key);
    if (!h) return;
    if (--h.count > 0) return;
    releaseNow(this.key);
  }
}

function releaseNow(key: string) {
  const h = held.get(key);
  if (!h) return;
  held.delete(key);
  clearInterval(h.timer);
  try {
    // Only our own: a lock taken over from us (we were thought gone) is the other's.
    if (heldWith(key, h.token)) unlinkSync(key);
  } catch {
    // gone already
  }
}
