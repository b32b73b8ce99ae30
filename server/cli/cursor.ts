// The cursor file of `hooklab forward`: where the relay stands in a bin (the last capture every
// target had), which bin that is (its id, its server, when it was made: a bin deleted and made
// again with the same id is another bin), and a lock beside it so that one relay at a time
// follows it.
//
// The lock (FILE.lock) is created with O_EXCL and holds who took it ({"pid","host",…}); it is
// removed when the relay ends. One left behind by a relay that was killed (SIGKILL, a crash, a
// power cut) is taken over, saying so, when its pid no longer runs on this host (or runs, but
// is another process than the one that took it: Linux tells by the process's start time). A
// lock taken on another host (a cursor on a shared disk) cannot be checked from here: it is
// refused, saying how to remove it. (No lock-file package fits: proper-lockfile and lockfile
// judge staleness by the file's age, so they either refuse for a while after a kill or take
// over the lock of a relay whose laptop slept, and neither says which process holds it.)
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { open, readFile, readlink, realpath, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError, EXIT, fileError } from './client.ts';
import { jsonProblem } from '../lib/json-problem.ts';
import { heldWith, parseHolder, staleOnThisHost, thisProcess } from '../lib/lock-holder.ts';

export interface Cursor {
  /** The last capture every target had ('0': none yet, from the bin's start). */
  lastId: string | null;
  /** Its arrival number in the bin, when known (a gap can then be counted). */
  lastSeq?: number | null;
  /** The bin followed (older hooklabs wrote none). */
  binId?: string;
  /** Its server, as the relay was given it. */
  server?: string;
  /** When the bin was made: tells a bin deleted and made again with the same id. */
  binCreatedAt?: string;
}

const REQUEST_ID = /^[0-9a-z]{1,40}$/;
const BIN_ID = /^[A-Za-z0-9_-]{4,64}$/;

const START_OVER = `fix it, or delete it to start over (the relay then starts from where the bin stands now; with --from-start, from the first capture it holds)`;

/** What is wrong with a parsed cursor file's content, or null when it is a cursor. */
function problemOf(d: unknown): string | null {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return `it holds ${Array.isArray(d) ? 'an array' : d === null ? 'null' : `a ${typeof d}`}, not an object`;
  const c = d as Record<string, unknown>;
  if (typeof c.lastId !== 'string' || !REQUEST_ID.test(c.lastId)) return `"lastId" is ${JSON.stringify(c.lastId) ?? 'missing'}, not a request id`;
  if (c.lastSeq !== undefined && c.lastSeq !== null && !(Number.isSafeInteger(c.lastSeq) && (c.lastSeq as number) >= 0)) return `"lastSeq" is ${JSON.stringify(c.lastSeq)}, not an arrival number`;
  if (c.binId !== undefined && (typeof c.binId !== 'string' || !BIN_ID.test(c.binId))) return `"binId" is ${JSON.stringify(c.binId)}, not a bin id`;
  if (c.server !== undefined && (typeof c.server !== 'string' || !URL.canParse(c.server))) return `"server" is ${JSON.stringify(c.server)}, not a URL`;
  if (c.binCreatedAt !== undefined && (typeof c.binCreatedAt !== 'string' || Number.isNaN(Date.parse(c.binCreatedAt)))) return `"binCreatedAt" is ${JSON.stringify(c.binCreatedAt)}, not a time`;
  return null;
}

/**
 * The file a cursor path names: a symlink's target (the lock beside that, and the write renamed
 * onto it, the link kept, as `export --out` does), else the file in its directory's real path.
 * Two relays given two names of one file (a link and its target) then take one lock: they
 * would forward the same bin twice. A path that cannot be resolved is used as given (reading
 * or writing it then says why).
 */
export async function cursorPath(file: string): Promise<string> {
  try {
    return await realpath(file);
  } catch {
    // Not there yet, or a link to a file not there yet: where it will be written.
  }
  let target = file;
  try {
    target = path.resolve(path.dirname(file), await readlink(file));
  } catch {
    // Not a link.
  }
  try {
    return path.join(await realpath(path.dirname(target)), path.basename(target));
  } catch {
    return target;
  }
}

/**
 * The cursor file's content; null when there is none (a first run). A file that is not a cursor is refused (exit 2), saying what to do.
 * `file`: its path as cursorPath resolved it; `name`: as the user gave it, for messages.
 */
export async function loadCursor(file: string, name = file): Promise<Cursor | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fileError(name, 'read the cursor file', e);
  }
  if (text.trim() === '') throw new CliError(`the cursor file ${name} is empty: ${START_OVER}`, EXIT.usage);
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch (e) {
    // Where, not what: the parser's message quotes the file, maybe over several lines.
    throw new CliError(`the cursor file ${name} is not valid JSON (${jsonProblem(text)}): ${START_OVER}`, EXIT.usage);
  }
  const problem = problemOf(d);
  if (problem) throw new CliError(`the cursor file ${name} is not a hooklab forward cursor (${problem}): ${START_OVER}`, EXIT.usage);
  const c = d as Cursor;
  return { lastId: c.lastId, lastSeq: c.lastSeq ?? null, binId: c.binId, server: c.server, binCreatedAt: c.binCreatedAt };
}

/** Written whole or not at all: to a temporary file of its own (never one another writer uses), then renamed over it. */
export async function saveCursor(file: string, c: Cursor, name = file): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(c));
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw fileError(name, 'write the cursor file', e);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A lock without readable content may be one being written this instant: looked at again for up to this long. */
const UNREADABLE_GRACE_MS = 1000;

/**
 * Take FILE.lock for this process, or refuse (exit 2) naming the relay that holds it. A stale
 * one (its relay gone) is taken over, said on stderr. Also tells early that the cursor file's
 * directory cannot be written (the lock is made there). Answers the release.
 */
export async function lockCursor(file: string, name = file): Promise<() => Promise<void>> {
  const lock = `${file}.lock`;
  const me = thisProcess();
  let unreadableSince: number | null = null;
  for (let tries = 0; ; tries++) {
    try {
      const fh = await open(lock, 'wx');
      try {
        await fh.writeFile(JSON.stringify(me));
      } finally {
        await fh.close();
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(name, 'write the cursor file', e);
    }
    if (tries >= 20) throw new CliError(`cannot take the lock ${lock} of the cursor file ${name}: other relays keep taking it`, EXIT.usage);
    let text: string;
    try {
      text = await readFile(lock, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      throw fileError(lock, 'read the lock of the cursor file', e);
    }
    const h = parseHolder(text);
    if (!h) {
      unreadableSince ??= Date.now();
      if (Date.now() - unreadableSince < UNREADABLE_GRACE_MS) {
        await sleep(100);
        continue;
      }
      process.stderr.write(`the cursor file's lock ${lock} holds no relay's details (a write cut short): taken over\n`);
    } else if (h.host !== me.host) {
      throw new CliError(
        `the cursor file ${name} is in use by a hooklab forward on another host (${h.host}, pid ${h.pid}, since ${h.startedAt}): one relay per cursor file; give this one another --cursor (if no relay runs there, delete ${lock})`,
        EXIT.usage,
      );
    } else if (staleOnThisHost(h) === null) {
      throw new CliError(
        `the cursor file ${name} is in use by another hooklab forward (pid ${h.pid}, since ${h.startedAt}): one relay per cursor file; stop that one, or give this one another --cursor (if no relay runs as pid ${h.pid}, delete ${lock})`,
        EXIT.usage,
      );
    } else {
      process.stderr.write(`the cursor file's lock ${lock} was left by a relay that no longer runs (pid ${h.pid}): taken over\n`);
    }
    // Stale: removed (only if it is still the one looked at), then taken as above.
    try {
      if ((await readFile(lock, 'utf8')) === text) await unlink(lock);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(lock, 'remove the stale lock of the cursor file', e);
    }
    unreadableSince = null;
  }
  let released = false;
  const releaseSync = () => {
    if (released) return;
    released = true;
    try {
      if (heldWith(lock, me.token)) unlinkSync(lock);
    } catch {
      // gone already
    }
  };
  // Whatever way the process ends that Node sees (process.exit after an error, say).
  process.once('exit', releaseSync);
  return async () => {
    process.removeListener('exit', releaseSync);
    releaseSync();
  };
}
