// File primitives of the lowdb driver: files replaced whole atomically through lowdb (steno:
// temp file, then rename), positioned writes and reads for body and journal files, and the
// errors and faults they turn into. Every file is created 0600 and every directory 0700:
// captures hold other people's headers and bodies, journals hold secrets, and directory names
// are bin ids.
import { constants } from 'node:fs';
import { type FileHandle, open, readdir, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { DataFile, TextFile } from 'lowdb/node';
import { jsonProblem } from '../../lib/json-problem.ts';
import type { StoreFault, StoreFaultCode } from '../types.ts';
import { DATA_DIR_GONE, DATA_DIR_REPLACED, DATA_DIR_UNMOUNTED, isDataDirIdentityError } from './data-dir-identity.ts';

/** Modes of what hooklab creates under DATA_DIR: its owner's only. */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** A data file that cannot be read. Start-up stops; the file is left as it is. */
export class DataFileError extends Error {
  /** `advice` replaces the default "hooklab has not changed it. Move it aside (or fix it)…". */
  constructor(readonly file: string, reason: string, advice?: string) {
    super(
      `Cannot read data file ${file}: ${reason}. ` +
        (advice ?? `hooklab has not changed it. Move it aside (or fix it) and start again; see README "Storage".`),
    );
  }
}

const READ_PROBLEMS: Record<string, string> = {
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a directory on its path is a file',
  EACCES: 'permission denied (EACCES)',
  EPERM: 'operation not permitted (EPERM)',
  EIO: 'an I/O error (EIO)',
  ESHORT: 'it ended while being read (cut short meanwhile?)',
};

/** A data file that could not be read, as the DataFileError that names it (the cause's code, not its message). */
export function unreadable(file: string, err: unknown): DataFileError {
  if (err instanceof DataFileError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  return new DataFileError(file, (code && READ_PROBLEMS[code]) ?? (code ? `unreadable (${code})` : 'unreadable'));
}

/** A JSON parse that says where it failed, not what: JSON.parse's message quotes the text, which holds secrets. */
class JsonProblem extends Error {}
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new JsonProblem(jsonProblem(text));
  }
}

function jsonFile<T>(filename: string): Low<T> {
  // Compact JSON: these files are machine-written and size is write time.
  const adapter = new DataFile<T>(filename, { parse: parseJson as (s: string) => T, stringify: (d) => JSON.stringify(d) });
  return new Low<T>(adapter, null as T);
}

/** Read a JSON document; null when it does not exist; DataFileError when it is unusable. */
export async function readJson<T>(filename: string, check: (d: unknown) => string | null): Promise<T | null> {
  const low = jsonFile<T>(filename);
  try {
    await low.read();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw e instanceof JsonProblem ? new DataFileError(filename, `not valid JSON (${e.message})`) : unreadable(filename, e);
  }
  if (low.data === null) return null;
  const problem = check(low.data);
  if (problem) throw new DataFileError(filename, problem);
  return low.data;
}

/** Compact JSON (machine-written; size is write time), replacing the file whole. */
export async function writeJson<T>(filename: string, data: T): Promise<void> {
  const low = jsonFile<T>(filename);
  low.data = data;
  await ownerOnlyTemp(filename);
  await low.write();
}

/** Replace a text file whole, atomically (lowdb's TextFile: a temp file, then a rename). */
export async function replaceFile(filename: string, text: string): Promise<void> {
  await ownerOnlyTemp(filename);
  await new TextFile(filename).write(text);
}

/** steno's name for a temp file, which start-up removes (removeTempFiles): /dir/.name.tmp. */
const tempName = (filename: string) => path.join(path.dirname(filename), `.${path.basename(filename)}.tmp`);

/**
 * steno writes its temp file with the process's default mode (0644 as a rule), and the rename
 * gives the file that mode. Made first, empty and 0600, the temp file keeps its mode when
 * steno writes it, and so does the file. One left by a write a crash cut short may have
 * another mode: it goes first.
 */
async function ownerOnlyTemp(filename: string): Promise<void> {
  const tmp = tempName(filename);
  let fh: FileHandle;
  try {
    fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, FILE_MODE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    await removeFile(tmp);
    fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, FILE_MODE);
  }
  await fh.close();
}

/** Open for positioned writes, creating the file if needed (never truncating it). */
export function openForWrite(filename: string): Promise<FileHandle> {
  return open(filename, constants.O_WRONLY | constants.O_CREAT, FILE_MODE);
}

/**
 * Write `bufs` at `position`. Positioned, not appended: a write that failed half-way (disk
 * full) is simply made again at the same place.
 */
export async function writeAt(fh: FileHandle, bufs: Buffer[], position: number): Promise<void> {
  let pos = position;
  let rest = bufs.filter((b) => b.length > 0);
  while (rest.length > 0) {
    const { bytesWritten } = await fh.writev(rest, pos);
    pos += bytesWritten;
    // A short write: drop what went out and go on with the rest.
    let n = bytesWritten;
    while (rest.length > 0 && n >= rest[0].length) n -= rest.shift()!.length;
    if (n > 0) rest[0] = rest[0].subarray(n);
  }
}

/** writeAt on a file opened and closed for the one write. */
export async function writeFileAt(filename: string, bufs: Buffer[], position: number): Promise<void> {
  const fh = await openForWrite(filename);
  try {
    await writeAt(fh, bufs, position);
  } finally {
    await fh.close();
  }
}

export async function readAt(filename: string, position: number, length: number): Promise<Buffer> {
  const fh = await open(filename, 'r');
  try {
    const buf = Buffer.allocUnsafeSlow(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(buf, got, length - got, position + got);
      if (bytesRead === 0) throw Object.assign(new Error(`${filename} ends before byte ${position + length}`), { code: 'ESHORT' });
      got += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/** Size of a file, or -1 when it does not exist. Something else there (a directory) is a DataFileError. */
export async function fileSize(filename: string): Promise<number> {
  try {
    const fh = await open(filename, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new DataFileError(filename, st.isDirectory() ? 'is a directory, not a file' : 'is not a regular file');
      return st.size;
    } finally {
      await fh.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return -1;
    throw e;
  }
}

export async function truncateTo(filename: string, size: number): Promise<void> {
  const fh = await open(filename, 'r+');
  try {
    await fh.truncate(size);
  } finally {
    await fh.close();
  }
}

/** Remove one file; gone already is fine. One unlink (rm's force costs two lstats more). */
export async function removeFile(filename: string): Promise<void> {
  try {
    await unlink(filename);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** steno's temp files (".name.tmp") left by a write a crash interrupted. Answers how many went. */
export async function removeTempFiles(dir: string, names?: string[]): Promise<number> {
  const list = names ?? (await readdir(dir).catch(() => [] as string[]));
  let n = 0;
  for (const name of list) {
    if (name.startsWith('.') && name.endsWith('.tmp')) {
      await rm(path.join(dir, name), { force: true });
      n++;
    }
  }
  return n;
}

const FAULTS: Record<string, { code: StoreFaultCode; what: string }> = {
  ENOSPC: { code: 'disk_full', what: 'the disk is full' },
  EDQUOT: { code: 'disk_full', what: 'the disk quota is used up' },
  EROFS: { code: 'read_only', what: 'the file system is read-only' },
  EACCES: { code: 'no_permission', what: 'permission denied' },
  EPERM: { code: 'no_permission', what: 'operation not permitted' },
  ENOENT: { code: 'missing_directory', what: 'the data directory is missing (unmounted or deleted?)' },
  ENOTDIR: { code: 'missing_directory', what: 'a data directory was replaced by a file' },
  // (data-dir-identity.ts; not errnos, so not shown as one.) Each says what to do: a directory
  // made anew is never taken for the one hooklab started on (its journals are gone), so only
  // putting that one back or a restart ends the fault.
  [DATA_DIR_UNMOUNTED]: {
    code: 'missing_directory',
    what:
      'DATA_DIR is not the directory hooklab started on (another file system is there: its volume unmounted?); hooklab writes nothing there. ' +
      'Mount the volume again: writes resume by themselves. (To use what is there now instead, restart hooklab.)',
  },
  [DATA_DIR_REPLACED]: {
    code: 'missing_directory',
    what:
      'DATA_DIR is not the directory hooklab started on (it was removed or moved away, and made again), and what that one held, its journals and captures, is not in it; hooklab writes nothing there. ' +
      'Move the original directory back: writes resume by themselves. Or restart hooklab to start afresh on the directory there now (restore a backup into it first, if you have one): what was captured since this fault began is lost then',
  },
  [DATA_DIR_GONE]: {
    code: 'missing_directory',
    what:
      'DATA_DIR is gone (removed, or its volume unmounted along with its mount point); hooklab makes nothing there. ' +
      'Mount the volume again or move the directory back: writes resume by themselves. A directory made anew there is not taken for it: restart hooklab to start afresh on one',
  },
};

function describe(err: unknown) {
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  // The code only: an error's message names the file, and so a bin id (health is public).
  return FAULTS[code] ?? { code: 'io_error' as const, what: code ? `write error ${code}` : 'an unexpected write error (see the log)' };
}

/** A file system error in words, with its code: "the disk is full (ENOSPC)". */
export function whatFailed(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (isDataDirIdentityError(err)) return describe(err).what;
  return code && FAULTS[code] ? `${FAULTS[code].what} (${code})` : describe(err).what;
}

const READ_FAILURES: Record<string, string> = {
  ENOENT: 'a file is missing',
  ENOTDIR: 'a directory was replaced by a file',
  ESHORT: 'a file is shorter than its metadata says',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'an I/O error',
  EISDIR: 'a file was replaced by a directory',
};

/** A read error in words, with its code, naming no file: "a file is missing (ENOENT)". */
export function whatFailedReading(err: unknown): string {
  if (err instanceof DataFileError) return 'a file is corrupt';
  const code = (err as NodeJS.ErrnoException)?.code;
  if (!code) return 'an unexpected read error (see the log)';
  return READ_FAILURES[code] ? `${READ_FAILURES[code]} (${code})` : `read error ${code}`;
}

/** A write error as the fault health reports (no paths: health is public). */
export function faultOf(err: unknown, since: number): StoreFault {
  const f = describe(err);
  return {
    code: f.code,
    message: `Cannot write to DATA_DIR: ${f.what}. New captures and changes are refused (503) until writes succeed again; nothing acknowledged is lost while hooklab keeps running.`,
    since: new Date(since).toISOString(),
  };
}
