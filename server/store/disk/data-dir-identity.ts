// DATA_DIR is the directory hooklab started on, or writes stop. An unmounted volume leaves its
// mount point behind as an empty directory of the disk below: checking that DATA_DIR exists
// passed, and hooklab recreated bins/ and its journals there (onto the wrong disk), and a
// restart then found bins with no captures. So its device and inode are remembered at
// start-up, and every write that could create something under DATA_DIR checks them first
// (one stat). A directory removed and made again is not the same one either: hooklab waits
// for the one it started on (remounted, it is the same device and inode again).
import { stat } from 'node:fs/promises';

/** Error code of a DATA_DIR that is not the one hooklab started on (files.ts words it). */
export const DATA_DIR_REPLACED = 'DATA_DIR_REPLACED';

export class DataDirIdentity {
  private constructor(
    private readonly dir: string,
    private readonly dev: number,
    private readonly ino: number,
  ) {}

  static async remember(dir: string): Promise<DataDirIdentity> {
    const st = await stat(dir);
    return new DataDirIdentity(dir, st.dev, st.ino);
  }

  /** Throws (ENOENT, or DATA_DIR_REPLACED) unless DATA_DIR is still the directory remembered. */
  async check(): Promise<void> {
    const st = await stat(this.dir); // ENOENT: gone (a fault, as it is)
    if (st.dev !== this.dev || st.ino !== this.ino) {
      throw Object.assign(new Error(`${this.dir} is not the directory hooklab started on (device ${st.dev}, inode ${st.ino}; was ${this.dev}, ${this.ino})`), {
        code: DATA_DIR_REPLACED,
        path: this.dir,
      });
    }
  }
}
