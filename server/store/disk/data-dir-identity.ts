// DATA_DIR is the directory hooklab started on, or writes stop. An unmounted volume leaves its
// mount point behind as an empty directory of the disk below: checking that DATA_DIR exists
// passed, and hooklab recreated bins/ and its journals there (onto the wrong disk), and a
// restart then found bins with no captures. So its device and inode are remembered at
// start-up (with its birth time: ext4 gives a directory removed and made again at once the
// same inode number), and every write that could create something under DATA_DIR checks them first
// (one stat), as /api/health does when asked (LowdbStore.check). A directory removed and made
// again is not the same one either: its journals are gone, so hooklab does not take it for
// the one it started on; it waits for that one (remounted or moved back, it is the same device
// and inode again), and the fault says how to start afresh instead (files.ts words it).
import { stat } from 'node:fs/promises';

/** Error codes of a DATA_DIR that is not the one hooklab started on (not errnos: files.ts words them). */
export const DATA_DIR_GONE = 'DATA_DIR_GONE';
/** Another file system is at DATA_DIR (its volume unmounted, the mount point left). */
export const DATA_DIR_UNMOUNTED = 'DATA_DIR_UNMOUNTED';
/** The same file system, another directory: removed (or moved away) and made again. */
export const DATA_DIR_REPLACED = 'DATA_DIR_REPLACED';

export const isDataDirIdentityError = (err: unknown): boolean => {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === DATA_DIR_GONE || code === DATA_DIR_UNMOUNTED || code === DATA_DIR_REPLACED;
};

export class DataDirIdentity {
  private constructor(
    private readonly dir: string,
    private readonly dev: number,
    private readonly ino: number,
    /** 0 where the file system keeps none (then device and inode alone tell). */
    private readonly born: number,
  ) {}

  /**
   * Called after start-up has written into DATA_DIR (its writable check): on overlayfs that
   * write copies the directory up, which gives it a new birth time once, before it is read here.
   */
  static async remember(dir: string): Promise<DataDirIdentity> {
    const st = await stat(dir);
    return new DataDirIdentity(dir, st.dev, st.ino, realBirth(st));
  }

  /** Throws (DATA_DIR_GONE, DATA_DIR_UNMOUNTED or DATA_DIR_REPLACED) unless DATA_DIR is still the directory remembered. */
  async check(): Promise<void> {
    let st;
    try {
      st = await stat(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
      throw Object.assign(new Error(`${this.dir} is gone`), { code: DATA_DIR_GONE, path: this.dir });
    }
    if (st.dev !== this.dev || st.ino !== this.ino || (this.born !== 0 && st.birthtimeMs !== this.born)) {
      throw Object.assign(new Error(`${this.dir} is not the directory hooklab started on (device ${st.dev}, inode ${st.ino}, made ${st.birthtimeMs}; was ${this.dev}, ${this.ino}, ${this.born})`), {
        code: st.dev !== this.dev ? DATA_DIR_UNMOUNTED : DATA_DIR_REPLACED,
        path: this.dir,
      });
    }
  }
}

/**
 * The directory's birth time, or 0 where there is none to trust. Where statx is unavailable
 * (old Docker seccomp profiles, WSL1, qemu-user), Node reports the last change time (ctime) as
 * the birth time, and that moves with every file made or removed inside: it would read as
 * "made again" at once. Start-up has just written into DATA_DIR, so a real birth time is older
 * (or equal within the clock's tick: then device and inode alone tell, as they did before).
 */
export function realBirth(st: { birthtimeMs: number; ctimeMs: number }): number {
  return st.birthtimeMs > 0 && st.birthtimeMs !== st.ctimeMs ? st.birthtimeMs : 0;
}
