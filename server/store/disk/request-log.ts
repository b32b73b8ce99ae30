// Captured requests on disk. Per bin, requests go into numbered segments of at most
// `segmentSize` requests or `segmentBytes` body bytes:
//   bins/<binId>/<n>.body   the bodies, appended once each (positioned writes), never rewritten
//   bins/<binId>/<n>.log    the metadata (headers, answer, where each body is), an append-only
//                           journal (segment-log.ts); <n>.json of earlier builds still loads
// Memory holds only the index (one list row per request) plus what is not yet written, and a
// byte-budgeted cache of what was read back. So RSS does not follow the stored bodies, and a
// flush writes the new bodies plus a few KB of metadata, whatever is stored.
//
// Crash safety: a flush writes a segment's new bodies first, then appends its metadata lines,
// so metadata never points at bytes that are not there; bytes past the end the metadata knows
// and a torn last metadata line (a write a crash cut short) are cut off at load. Evictions by
// the cap or the byte budget are lazy: a segment's files stay until all its requests are gone;
// the newest segment gets a line with the bin's eviction mark (the newest id evicted) and load
// drops what is at or below it.
//
// Deletions are recorded before they take effect, with no flush under way: a request's is a
// line in its segment's log; clearing a bin moves its directory aside in one rename (which
// needs no free space: a full disk can be cleared), then removes it. Either is on disk when it
// resolves, so a deleted request never comes back; one that cannot be written throws
// ChangeNotRecordedError and changes nothing.
// A bin's deletion marks its directory (DELETED_MARK) before bins.log records it, and the
// directory goes by a move aside then a removal: start-up removes an unlisted directory only
// when it is marked (or moved aside), and refuses on any other (checkBinDirs).
import { randomBytes } from 'node:crypto';
import { type FileHandle, chmod, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RequestItem } from '../../../shared/api.ts';
import { ByteLru } from '../../lib/lru.ts';
import { changesRow, countedBytes, evictionsOf, type IndexEntry, RequestIndex, toItem, withAnnotations } from '../request-index.ts';
import { type Annotations, type CapturedRequest, ChangeNotRecordedError, type RequestLog, type RequestPageQuery, StoreReadError, type StoredRequest } from '../types.ts';
import { DIR_MODE, DataFileError, FILE_MODE, fileSize, openForWrite, readAt, readJson, removeFile, removeTempFiles, replaceFile, truncateTo, unreadable, whatFailed, writeAt, writeFileAt, writeJson } from './files.ts';
import { type DiskRecord, deleteLine, headerLine, markLine, parseSegmentLog, patchLine, recordLine } from './segment-log.ts';
import { internFlat } from '../../lib/intern.ts';
import { ownBytes } from '../../lib/own-bytes.ts';
import { headBytes } from '../head-bytes.ts';

export const DEFAULT_SEGMENT_SIZE = 50;
export const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;
/** Bodies of a segment write kept in the cache: its newest (what a viewer opens next). */
const CACHED_PER_WRITE = 16;
/** Segments whose files are read ahead while a bin loads (each holds up to two files open). */
const SEGMENTS_READ_AHEAD = 4;
/**
 * A segment whose captures are all gone is removed: its journal is renamed to <n>.removing
 * first, then its body file and that go. A crash in between leaves a body file whose removal
 * start-up finishes, told apart from one whose journal was lost (refused, see loadBin).
 */
const REMOVING = '.removing';
/** The version of <n>.json segment files (earlier builds; now segment-log.ts). */
const SEGMENT_VERSION = 2;
/** A segment log is rewritten whole (temp file, rename) once it has more lines than this factor of its live requests (plus slack). */
const LOG_COMPACT_FACTOR = 2;
const LOG_COMPACT_SLACK = 16;
/** A cleared or deleted bin's directory, moved aside under bins/ until it is removed (start-up removes any left). */
const ASIDE_PREFIX = '.cleared-';
/**
 * In a bin's directory: the bin is being deleted on purpose. Written before the deletion goes
 * into bins.log, so that start-up removes only directories it knows were deleted: one that
 * bins.log does not list and has no mark means bins.log lost lines, and start-up refuses.
 */
export const DELETED_MARK = '.deleted';

/**
 * What start-up cut from a data file (a write a crash or power cut left unfinished):
 *   journal, segment: what followed a journal's last whole line;
 *   body: body bytes past what its journal points at;
 *   orphan: the bin's newest body file, with no journal yet (removed whole);
 *   short: a body file shorter than its journal says (the captures past its end dropped).
 */
export interface TailCut {
  file: string;
  bytes: number;
  /** What was cut ends in zero bytes (space allotted, never written: a power cut, or damage). */
  zeros: boolean;
  what: 'journal' | 'segment' | 'body' | 'orphan' | 'short';
  /** short: the body file's size, what its journal pointed at, and the captures dropped. */
  short?: { size: number; needed: number; captures: number };
}

/** A cut, and how it is made: only once every bin loaded and start-up refused nothing (a refusal touches nothing). */
interface PendingCut extends TailCut {
  apply: () => Promise<void>;
  /** short: the ids dropped (counted once the bin's eviction mark is known). */
  ids?: string[];
  binId?: string;
}

interface SegmentFile {
  version: number;
  binId: string;
  segment: number;
  /** The newest id evicted from this bin when the file was written. */
  evictedThrough?: string;
  /** The highest arrival number evicted by then (so numbering goes on after a restart). */
  evictedSeq?: number;
  requests: DiskRecord[];
}

/** Version 1 (earlier builds): bodies inline, base64. Carried over into version 2 at load. */
type V1Record = Omit<StoredRequest, 'storedBytes'> & { storedBytes?: number; body: string };

interface Seg {
  n: number;
  binId: string;
  /** Its requests in append order; gone ones are dropped when it is rewritten. */
  entries: DiskEntry[];
  live: number;
  /** Requests ever put in it, and body bytes: when either is full, new ones go to the next. */
  count: number;
  bytes: number;
  /** Body file bytes written (the next body goes here). */
  fileBytes: number;
  /**
   * Its body file may exist (it was opened for writing, or found at load). A segment whose
   * captures were all pushed out before its first write (a flood into a full bin) has none:
   * nothing to remove (a failed unlink costs an error object; this happens per 50 captures).
   */
  bodyFile: boolean;
  /** Appended, not yet written. */
  pending: DiskEntry[];
  /** Written records changed since (annotations), until the metadata is rewritten. */
  patched?: Map<string, DiskRecord>;
  /**
   * What changed in each of those (merged), for an appended line of just that. A record in
   * `patched` without one here is written whole.
   */
  changes?: Map<string, Partial<Annotations>>;
  /** The changes a metadata rewrite under way is writing: still newer than the cache until it ends. */
  flushing?: Map<string, DiskRecord>;
  /** The body file, kept open while new bodies go to this segment. */
  fh: FileHandle | null;
  /** A write to it is under way (its file must not be closed meanwhile). */
  busy: boolean;
  dirty: boolean;
  /** Its metadata file exists. */
  onDisk: boolean;
  /** Its metadata is an earlier build's <n>.json: the next write makes it a log. */
  legacy: boolean;
  /** Bytes and lines of its metadata log written (0: none yet). */
  logBytes: number;
  lines: number;
  /** The metadata log, kept open like the body file. */
  lfh: FileHandle | null;
  /** The next write carries the bin's eviction mark. */
  writeMark: boolean;
  /** Counts metadata writes: a read that overlapped one is not cached. */
  gen: number;
}

interface DiskEntry extends IndexEntry {
  seg: Seg;
  /** Offset of the body in the segment's body file; -1 until written. */
  off: number;
  /** Metadata and body, held until written. */
  pend: CapturedRequest | null;
  /** Its body was put in the cache (so it is dropped from there when the entry goes). */
  cached?: boolean;
}

interface BinFiles {
  segs: Map<number, Seg>;
  open: Seg | null;
  nextSeg: number;
  evictedThrough: string;
  evictedSeq: number;
  /** The eviction mark changed: write it with the newest segment. */
  markDirty: boolean;
  dirExists: boolean;
  /** The id belonged to a bin deleted before its directory went: remove that first. */
  wipe: boolean;
}

export interface DiskRequestLogOptions {
  dataDir: string;
  segmentSize?: number;
  segmentBytes?: number;
  /** MAX_REQUESTS_PER_BIN: at load, anything beyond it (the cap was lowered) is dropped. */
  maxRequestsPerBin?: number;
  /** MAX_STORE_BYTES. */
  maxStoreBytes?: number;
  /** Bytes of bodies and metadata kept in memory after reading them back. */
  cacheBytes?: number;
  binExists: (binId: string) => boolean;
  /** Unused: deletions are now recorded by the log itself (see delete, clear). Accepted for callers that still pass it. */
  durable?: () => Promise<void>;
  /** Something needs writing: the store schedules a flush. */
  onDirty: () => void;
  /** For people; `message` and `detail` name no bin id (health is public, bin ids are the receiver's secret). */
  onWarning: (message: string, detail?: Record<string, unknown>) => void;
  /** Runs `fn` with no flush under way (a deletion is recorded so). Default: at once. */
  exclusive?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** A stored capture could not be read back (the store counts these for health). */
  onReadFault?: (err: unknown) => void;
  /**
   * Throws unless DATA_DIR is the directory hooklab started on (data-dir-identity.ts): asked
   * before anything is made or recorded under it (a bin's directory, a deletion).
   */
  checkDataDir?: () => Promise<void>;
}

/** The deletion was not written: it did not happen. */
function notRecorded(err: unknown, what: string): ChangeNotRecordedError {
  return new ChangeNotRecordedError(`${what}: cannot write to DATA_DIR (${whatFailed(err)}). Nothing changed; retry once writes succeed (see /api/health).`);
}

/** A segment's changes to write now (those made from here on go with the next write). */
function takeChanges(seg: Seg) {
  const c = seg.changes;
  seg.changes = undefined;
  return c;
}

const segName = (n: number) => String(n).padStart(8, '0');
const strip = (r: DiskRecord | CapturedRequest): StoredRequest => {
  const { bodyOffset: _o, body: _b, ...meta } = r as DiskRecord & { body?: Buffer };
  return meta;
};

export class DiskRequestLog implements RequestLog {
  readonly index: RequestIndex<DiskEntry>;
  private readonly files = new Map<string, BinFiles>();
  private readonly dirtyBins = new Set<string>();
  /** Bins deleted: their directories go once the bin list without them is on disk. */
  private readonly removedBins = new Set<string>();
  private readonly cache: ByteLru<Buffer | Map<string, DiskRecord>>;
  private pending = 0;
  private readonly segmentSize: number;
  private readonly segmentBytes: number;
  /** What loading found to cut from files, made by applyCuts. */
  private cuts: PendingCut[] = [];

  constructor(private readonly o: DiskRequestLogOptions) {
    this.index = new RequestIndex(o.maxStoreBytes ?? Infinity);
    this.cache = new ByteLru(o.cacheBytes ?? 32 * 1024 * 1024);
    this.segmentSize = o.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.segmentBytes = o.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  }

  private binDir(binId: string) {
    return path.join(this.o.dataDir, 'bins', binId);
  }
  /** An earlier build's segment metadata (rewritten whole). */
  private metaPath(binId: string, n: number) {
    return path.join(this.binDir(binId), `${segName(n)}.json`);
  }
  private logPath(binId: string, n: number) {
    return path.join(this.binDir(binId), `${segName(n)}.log`);
  }
  private bodyPath(binId: string, n: number) {
    return path.join(this.binDir(binId), `${segName(n)}.body`);
  }

  private binFiles(binId: string): BinFiles {
    let f = this.files.get(binId);
    if (!f) {
      const wipe = this.removedBins.delete(binId);
      f = { segs: new Map(), open: null, nextSeg: 0, evictedThrough: '', evictedSeq: 0, markDirty: false, dirExists: false, wipe };
      this.files.set(binId, f);
    }
    return f;
  }

  private markDirty(seg: Seg) {
    seg.dirty = true;
    this.dirtyBins.add(seg.binId);
    this.o.onDirty();
  }

  get hasDirty(): boolean {
    return this.dirtyBins.size > 0 || this.removedBins.size > 0;
  }

  pendingBytes(): number {
    return this.pending;
  }

  // ------------------------------------------------------------------ writes

  async append(r: CapturedRequest, cap: number) {
    if (!this.o.binExists(r.binId)) return null;
    const f = this.binFiles(r.binId);
    let seg = f.open;
    if (!seg || seg.count >= this.segmentSize || seg.bytes >= this.segmentBytes) {
      // Closed now only when all of it is written; else by its last write (closing it here
      // made that write open both files again: measured, a third of a fast-forward's opens).
      if (seg && !seg.busy && seg.pending.length === 0) this.closeBody(seg);
      const n = f.nextSeg++;
      seg = newSeg(n, r.binId, { count: 0, bytes: 0, fileBytes: 0, onDisk: false, legacy: false });
      f.segs.set(n, seg);
      f.open = seg;
    }
    r.seq = this.index.nextSeq(r.binId);
    const e: DiskEntry = { id: r.id, binId: r.binId, item: toItem(r), bytes: r.body.length, head: headBytes(r), seg, off: -1, pend: r };
    seg.entries.push(e);
    seg.pending.push(e);
    seg.live++;
    seg.count++;
    seg.bytes += e.bytes;
    this.pending += e.bytes;
    this.markDirty(seg);
    const removed = this.index.add(e, cap);
    for (const x of removed) this.gone(x, 'evicted');
    return evictionsOf(r.binId, removed);
  }

  /** An entry left the index: release what it held and schedule its files' update. */
  private gone(e: DiskEntry, why: 'evicted' | 'deleted') {
    const seg = e.seg;
    seg.live--;
    if (e.pend) {
      const i = seg.pending.indexOf(e);
      if (i !== -1) seg.pending.splice(i, 1);
      e.pend = null;
      this.pending -= e.bytes;
    }
    if (e.cached) this.cache.delete(`b:${e.binId}:${e.id}`);
    const f = this.files.get(e.binId);
    if (why === 'evicted' && f && e.id > f.evictedThrough) {
      f.evictedThrough = e.id;
      f.evictedSeq = Math.max(f.evictedSeq, e.item.seq ?? 0);
      f.markDirty = true;
      this.dirtyBins.add(e.binId);
    }
    // (A deletion is on disk already: see delete(). A segment left empty has its files removed.)
    if (seg.live === 0) this.markDirty(seg);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.o.exclusive ? this.o.exclusive(fn) : fn();
  }

  private async checkDataDir(): Promise<void> {
    if (this.o.checkDataDir) await this.o.checkDataDir();
    else await stat(this.o.dataDir); // at least there
  }

  async delete(binId: string, id: string) {
    if (!this.index.get(binId, id)) return false;
    return this.exclusive(async () => {
      const e = this.index.get(binId, id);
      if (!e) return false;
      // Recorded first; one never written (still in memory) has nothing on disk to record.
      if (!e.pend && e.off >= 0) await this.recordDeletion(e);
      if (e.gone) return true; // evicted meanwhile
      this.index.remove(binId, id);
      this.gone(e, 'deleted');
      // Grown long with deletions: rewritten whole at the next flush (see writeSeg).
      const seg = e.seg;
      if (seg.live > 0 && seg.lines > LOG_COMPACT_FACTOR * seg.live + LOG_COMPACT_SLACK) this.markDirty(seg);
      return true;
    });
  }

  /** A written request's deletion, as a line in its segment's log (an earlier build's file is rewritten as a log without it). */
  private async recordDeletion(e: DiskEntry): Promise<void> {
    const seg = e.seg;
    const f = this.binFiles(e.binId);
    try {
      await this.checkDataDir();
      if (seg.legacy) {
        const onDisk = await this.segRecords(seg);
        const records: DiskRecord[] = [];
        for (const x of seg.entries) {
          const r = x !== e && !x.gone && x.off >= 0 ? onDisk.get(x.id) : undefined;
          if (r) records.push(r);
        }
        await this.replaceLog(f, seg, records);
      } else {
        await this.appendLog(seg, deleteLine(e.id));
        seg.lines++;
        const key = `m:${seg.binId}:${seg.n}`;
        const cached = this.cache.get(key) as Map<string, DiskRecord> | undefined;
        if (cached) cached.delete(e.id);
      }
    } catch (err) {
      this.closeLog(seg); // opened afresh next time
      throw notRecorded(err, 'The request was not deleted');
    }
    seg.gen++;
  }

  async clear(binId: string) {
    return this.exclusive(async () => {
      const taken = new Set(this.index.entries(binId));
      const f = this.files.get(binId);
      const aside = f ? await this.moveAside(binId) : null;
      // Captures that came while the directory was being moved are not part of the clear: kept
      // (they were not written yet, so nothing of them went aside).
      for (const e of this.index.clear(binId)) {
        if (taken.has(e)) this.gone(e, 'deleted');
        else {
          e.gone = false;
          for (const x of this.index.add(e, Infinity)) this.gone(x, 'evicted');
        }
      }
      if (f) this.forgetFiles(binId, f);
      if (aside) {
        await rm(aside, { recursive: true, force: true }).catch(() => {}); // else start-up removes it
        // An empty directory again, as before (if that fails, the next write makes it).
        if (f) await mkdir(this.binDir(binId), { mode: DIR_MODE }).then(() => void (f.dirExists = true), () => {});
      }
      return taken.size;
    });
  }

  /**
   * Move a bin's directory aside: all it holds is then gone from the bin, at once (a rename
   * needs no free space). Answers where it went, or null when there was none.
   */
  private async moveAside(binId: string): Promise<string | null> {
    const bins = path.join(this.o.dataDir, 'bins');
    const aside = path.join(bins, `${ASIDE_PREFIX}${randomBytes(6).toString('hex')}`);
    try {
      await this.checkDataDir();
      await rename(this.binDir(binId), aside);
      return aside;
    } catch (err) {
      let cause = err;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        // Nothing of it on disk, unless bins/ itself is gone (DATA_DIR unmounted?): its files may come back then.
        try {
          await stat(bins);
          return null;
        } catch (e) {
          cause = e;
        }
      }
      throw notRecorded(cause, 'The requests were not deleted');
    }
  }

  /** What was on disk of a bin is gone (cleared, or removed by hand): start its files afresh, keeping what is not written yet. */
  private forgetFiles(binId: string, f: BinFiles) {
    for (const seg of [...f.segs.values()]) {
      this.closeBody(seg);
      seg.entries = seg.entries.filter((e) => !e.gone);
      seg.live = seg.entries.length;
      seg.onDisk = false;
      seg.legacy = false;
      seg.bodyFile = false;
      seg.fileBytes = 0;
      seg.logBytes = 0;
      seg.lines = 0;
      seg.patched = undefined;
      seg.changes = undefined;
      seg.gen++;
      this.cache.delete(`m:${binId}:${seg.n}`);
      if (seg.live === 0 && seg.pending.length === 0) {
        f.segs.delete(seg.n);
        if (f.open === seg) f.open = null;
      }
    }
    this.cache.deletePrefix(`b:${binId}:`);
    f.dirExists = false;
    f.wipe = false;
  }

  /**
   * Mark a bin's directory as being deleted (DELETED_MARK), before its deletion is recorded in
   * bins.log. One that has no directory (nothing captured yet) has nothing to mark. Throws
   * when the mark cannot be written: the deletion must not go on then.
   */
  async markDeleted(binId: string): Promise<void> {
    // (A volume unmounted has no bin directory either: that is a fault, not "nothing to mark".)
    await this.checkDataDir();
    try {
      await writeFile(path.join(this.binDir(binId), DELETED_MARK), '', { mode: FILE_MODE });
    } catch (err) {
      // No directory, nothing to mark. (Should it come back, unlisted and unmarked, start-up refuses rather than guess.)
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
  }

  /** The deletion was not recorded after all: the bin stays, unmarked (best effort; start-up unmarks a listed bin too). */
  async unmarkDeleted(binId: string): Promise<void> {
    await rm(path.join(this.binDir(binId), DELETED_MARK), { force: true }).catch(() => {});
  }

  /** A bin's deletion is on disk: forget it now; its directory goes at the next flush (or removeDeletedBins). */
  dropBin(binId: string) {
    for (const e of this.index.dropBin(binId)) {
      if (e.pend) this.pending -= e.bytes;
      e.pend = null;
    }
    const f = this.files.get(binId);
    if (f) {
      // Its files close now; one being written, when that write ends (it is not f.open then).
      f.open = null;
      for (const seg of f.segs.values()) if (!seg.busy) this.closeBody(seg);
    }
    this.files.delete(binId);
    this.dirtyBins.delete(binId);
    this.cache.deletePrefix(`b:${binId}:`);
    this.cache.deletePrefix(`m:${binId}:`);
    this.removedBins.add(binId);
    this.o.onDirty();
  }

  // ------------------------------------------------------------------- reads

  async items(binId: string, q: RequestPageQuery): Promise<RequestItem[]> {
    return this.index.page(binId, q).map((e) => e.item);
  }

  async page(binId: string, q: RequestPageQuery) {
    const out: StoredRequest[] = [];
    for (const e of this.index.page(binId, q)) {
      const m = await this.meta(e);
      if (m) out.push(m);
    }
    return out;
  }

  async get(binId: string, id: string) {
    const e = this.index.get(binId, id);
    return e ? this.meta(e) : undefined;
  }

  async has(binId: string, id: string) {
    return this.index.get(binId, id) !== undefined;
  }

  async annotate(binId: string, id: string, fn: (r: StoredRequest) => Partial<Annotations>) {
    const e = this.index.get(binId, id);
    if (!e) return null;
    if (e.pend) {
      // Not written yet: its metadata goes out with the next flush anyway. (fn reads the record
      // as it is: a copy without the body would cost more than the whole change.)
      const change = fn(e.pend);
      e.pend = withAnnotations(e.pend, change);
      if (changesRow(change)) e.item = toItem(e.pend);
      return e.item;
    }
    const seg = e.seg;
    let records: Map<string, DiskRecord>;
    try {
      records = await this.segRecords(seg);
    } catch (err) {
      if (e.gone) return null;
      throw this.readFault(err);
    }
    // Newest first: changes not yet written, then those being written, then the file's.
    const r = seg.patched?.get(id) ?? seg.flushing?.get(id) ?? records.get(id);
    if (!r || e.gone) return null;
    // Held until the segment's metadata is rewritten (not in the cache, which may drop it).
    const change = fn(r);
    const next = withAnnotations(r, change);
    (seg.patched ??= new Map()).set(id, next);
    const before = seg.changes?.get(id);
    (seg.changes ??= new Map()).set(id, before ? Object.assign(Object.assign({}, before), change) : change);
    if (changesRow(change)) e.item = toItem(next);
    this.markDirty(seg);
    return e.item;
  }

  async body(binId: string, id: string): Promise<Buffer | undefined> {
    const e = this.index.get(binId, id);
    if (!e) return undefined;
    if (e.pend) return e.pend.body;
    const key = `b:${binId}:${id}`;
    const hit = this.cache.get(key);
    if (hit) return hit as Buffer;
    try {
      const buf = await readAt(this.bodyPath(binId, e.seg.n), e.off, e.bytes);
      if (!e.gone) {
        this.cache.set(key, buf, buf.length);
        e.cached = true;
      }
      return buf;
    } catch (err) {
      if (e.gone) return undefined; // evicted or deleted while reading
      throw this.readFault(err);
    }
  }

  /**
   * A capture the index holds could not be read back (its file missing, cut short or
   * unreadable: a bin's directory moved away by hand?). Not forgotten, unlike a directory found
   * gone by a write (binDirLost): put back, it reads again. The store counts it for health.
   */
  private readFault(err: unknown): StoreReadError {
    this.o.onReadFault?.(err);
    return new StoreReadError('A stored capture could not be read back: its file under DATA_DIR is missing or unreadable (see /api/health). Retry once it is back.');
  }

  async stats(binId: string) {
    return this.index.stats(binId);
  }

  async lastSeq(binId: string) {
    return this.index.lastSeq(binId);
  }

  private async meta(e: DiskEntry): Promise<StoredRequest | undefined> {
    if (e.pend) return strip(e.pend);
    const patched = e.seg.patched?.get(e.id) ?? e.seg.flushing?.get(e.id);
    if (patched) return strip(patched);
    let records: Map<string, DiskRecord>;
    try {
      records = await this.segRecords(e.seg);
    } catch (err) {
      if (e.gone) return undefined; // evicted or deleted while reading
      throw this.readFault(err);
    }
    const r = records.get(e.id);
    return r ? strip(r) : undefined;
  }

  /** A segment's metadata as on disk, through the cache. Its file missing is an error (ENOENT). */
  private async segRecords(seg: Seg, again = true): Promise<Map<string, DiskRecord>> {
    const key = `m:${seg.binId}:${seg.n}`;
    const hit = this.cache.get(key);
    if (hit) return hit as Map<string, DiskRecord>;
    if (!seg.onDisk) return new Map();
    const gen = seg.gen;
    const legacy = seg.legacy;
    let map: Map<string, DiskRecord>;
    try {
      if (legacy) {
        const file = this.metaPath(seg.binId, seg.n);
        const data = await readJson<SegmentFile>(file, (d) => checkSegment(d));
        if (!data) throw Object.assign(new Error(`${file} is missing`), { code: 'ENOENT' });
        map = new Map(data.requests.map((r) => [r.id, r as DiskRecord]));
      } else {
        map = (await this.readLog(seg.binId, seg.n, false)).records;
      }
    } catch (err) {
      // Rewritten meanwhile (an earlier build's file made a log, or the files started afresh): once more.
      if (again && (seg.gen !== gen || seg.legacy !== legacy)) return this.segRecords(seg, false);
      throw err;
    }
    // A write that ended meanwhile may be missing from what was read: not kept. Kept ones share
    // their headers' repeated strings, as written records do (not at start-up's read of every
    // log, which keeps only list rows).
    if (seg.gen === gen) {
      for (const r of map.values()) if (Array.isArray(r.headers)) internFlat(r.headers);
      this.cache.set(key, map, estimateBytes(map));
    }
    return map;
  }

  // ------------------------------------------------------------------- flush

  /** Write every dirty segment. Throws the first error after trying all; what failed stays dirty. */
  async flush(): Promise<void> {
    const errors: unknown[] = [];
    const bins = [...this.dirtyBins];
    this.dirtyBins.clear();
    await Promise.all(
      bins.map((binId) =>
        this.flushBin(binId).catch((err) => {
          this.dirtyBins.add(binId);
          errors.push(err);
        }),
      ),
    );
    if (errors.length) throw errors[0];
  }

  /** Remove the directories of deleted bins; call once the bin list without them is on disk. */
  async removeDeletedBins(): Promise<void> {
    for (const binId of [...this.removedBins]) {
      await this.removeDir(binId);
      await rm(path.join(this.o.dataDir, 'bins', `${binId}.json`), { force: true }); // an earlier build's layout
      this.removedBins.delete(binId);
    }
  }

  /**
   * Remove a deleted bin's directory: moved aside in one rename first, so that a stop in the
   * middle of the removal leaves a directory start-up removes (ASIDE_PREFIX), never a bin
   * directory that lost its mark but not yet its data.
   */
  private async removeDir(binId: string): Promise<void> {
    const aside = path.join(this.o.dataDir, 'bins', `${ASIDE_PREFIX}${randomBytes(6).toString('hex')}`);
    try {
      await rename(this.binDir(binId), aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await rm(aside, { recursive: true, force: true });
  }

  /** What is not on disk yet, for a stop that could not write it. */
  unsaved(): { requests: number; bytes: number; bins: number } {
    let requests = 0;
    const bins = new Set<string>();
    for (const [binId, f] of this.files) {
      for (const seg of f.segs.values()) {
        requests += seg.pending.length;
        if (seg.pending.length || seg.dirty) bins.add(binId);
      }
    }
    for (const binId of this.removedBins) bins.add(binId);
    return { requests, bytes: this.pending, bins: bins.size };
  }

  private async flushBin(binId: string) {
    const f = this.files.get(binId);
    if (!f) return;
    if (f.wipe) {
      await rm(this.binDir(binId), { recursive: true, force: true });
      f.wipe = false;
    }
    if (f.markDirty) {
      // The eviction mark goes with the newest segment that stays.
      let newest: Seg | null = null;
      for (const s of f.segs.values()) if ((s.live > 0 || s.pending.length > 0) && (!newest || s.n > newest.n)) newest = s;
      if (newest) {
        newest.dirty = true;
        newest.writeMark = true;
      }
      f.markDirty = false;
    }
    const dirty = [...f.segs.values()].filter((s) => s.dirty);
    try {
      for (const seg of dirty) await this.writeSeg(f, seg);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && f.dirExists && (await this.binDirLost(binId, f))) {
        for (const seg of f.segs.values()) if (seg.pending.length > 0 || seg.live > 0) seg.dirty = true;
        for (const seg of [...f.segs.values()].filter((s) => s.dirty)) await this.writeSeg(f, seg);
        return;
      }
      throw err;
    }
  }

  private async ensureDir(binId: string, f: BinFiles) {
    if (f.dirExists) return;
    // Never made in another directory than the one hooklab started on (an unmounted volume's
    // mount point is an empty directory of the disk below).
    await this.checkDataDir();
    try {
      await mkdir(this.binDir(binId), { mode: DIR_MODE });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        // fine
      } else if (code === 'ENOENT') {
        // bins/ is gone while DATA_DIR is the same directory (checked just above: an unmounted
        // volume is a fault until it is back, not something to recreate): removed by hand.
        await mkdir(path.join(this.o.dataDir, 'bins'), { recursive: true, mode: DIR_MODE });
        await mkdir(this.binDir(binId), { recursive: true, mode: DIR_MODE });
      } else throw err;
    }
    f.dirExists = true;
  }

  /**
   * A write into a bin's directory found it missing while DATA_DIR is there: someone removed
   * it. What was on disk is lost; say so, forget it, and carry on with what is in memory.
   */
  private async binDirLost(binId: string, f: BinFiles): Promise<boolean> {
    try {
      await stat(this.binDir(binId));
      return false; // it is there: the error was something else
    } catch {
      // missing
    }
    try {
      await this.checkDataDir();
    } catch {
      return false; // DATA_DIR itself gone or not the one hooklab started on (unmounted): a fault, not handled here
    }
    let lost = 0;
    for (const seg of f.segs.values()) {
      for (const e of seg.entries) {
        if (e.gone || e.off < 0) continue;
        this.index.remove(binId, e.id);
        e.gone = true;
        lost++;
      }
    }
    this.forgetFiles(binId, f);
    if (lost) {
      // Which bin is not said (nor logged): its id is its receiver URL's secret.
      this.o.onWarning(
        `A bin's data directory was removed outside hooklab: ${lost} stored request(s) were lost. ` +
          'hooklab recreated it and keeps capturing into it.',
      );
    }
    await this.ensureDir(binId, f);
    return true;
  }

  /** Close a segment's metadata log (a write to it failed: it is opened afresh next time). */
  private closeLog(seg: Seg) {
    const lfh = seg.lfh;
    seg.lfh = null;
    void lfh?.close().catch(() => {});
  }

  /** Append to a segment's metadata log at the end it knows (a failed write's tail is cut first). */
  private async appendLog(seg: Seg, text: string): Promise<void> {
    const file = this.logPath(seg.binId, seg.n);
    const lfh = (seg.lfh ??= await openForWrite(file));
    // The file must be the one we wrote (kept open, a removed file would swallow writes).
    const st = await lfh.stat();
    if (st.nlink === 0 || st.size < seg.logBytes) {
      throw Object.assign(new Error(`${file} was removed or cut short while in use`), { code: 'ENOENT' });
    }
    if (st.size > seg.logBytes) await lfh.truncate(seg.logBytes); // a failed write's tail
    await writeAt(lfh, [Buffer.from(text)], seg.logBytes);
    seg.logBytes += Buffer.byteLength(text);
  }

  /** Rewrite a segment's metadata log whole (temp file, then rename) with these records and the bin's eviction mark. */
  private async replaceLog(f: BinFiles, seg: Seg, records: DiskRecord[]): Promise<void> {
    const text = headerLine(seg.binId, seg.n) + records.map(recordLine).join('') + markLine(f.evictedThrough, f.evictedSeq);
    this.closeLog(seg); // the file is replaced
    await replaceFile(this.logPath(seg.binId, seg.n), text);
    if (seg.legacy) {
      await rm(this.metaPath(seg.binId, seg.n), { force: true });
      seg.legacy = false;
    }
    seg.logBytes = Buffer.byteLength(text);
    seg.lines = records.length + 2;
    const map = new Map(records.map((r) => [r.id, r]));
    this.cache.set(`m:${seg.binId}:${seg.n}`, map, estimateBytes(map));
  }

  /** Close a segment's body and metadata files once no more go to it (or its write failed). */
  private closeBody(seg: Seg) {
    const fh = seg.fh;
    const lfh = seg.lfh;
    seg.fh = null;
    seg.lfh = null;
    void fh?.close().catch(() => {});
    void lfh?.close().catch(() => {});
  }

  /** A segment's metadata log as on disk (a torn last line ignored). */
  private async readLog(binId: string, n: number, missingOk = true) {
    const file = this.logPath(binId, n);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      if (missingOk && (e as NodeJS.ErrnoException).code === 'ENOENT') bytes = Buffer.alloc(0);
      // At start-up (missingOk), a DataFileError naming it; later, the error as it is (a read fault).
      else throw missingOk ? unreadable(file, e) : e;
    }
    try {
      const st = parseSegmentLog(bytes);
      return { ...st, size: bytes.length, zeros: st.end < bytes.length && bytes[bytes.length - 1] === 0 };
    } catch (e) {
      throw new DataFileError(file, (e as Error).message);
    }
  }

  /** Close every body file still open (the store is stopping). */
  closeFiles() {
    for (const f of this.files.values()) for (const seg of f.segs.values()) this.closeBody(seg);
  }

  private async writeSeg(f: BinFiles, seg: Seg) {
    seg.dirty = false;
    const binId = seg.binId;
    if (seg.live === 0 && seg.pending.length === 0) {
      this.closeBody(seg);
      // Nothing left in it: its journal is renamed to <n>.removing first (see REMOVING), so a
      // crash in between leaves a body file start-up knows was being removed.
      const removing = path.join(this.binDir(binId), `${segName(seg.n)}${REMOVING}`);
      try {
        const renamed = seg.onDisk;
        if (seg.onDisk) await renameIfThere(seg.legacy ? this.metaPath(binId, seg.n) : this.logPath(binId, seg.n), removing);
        seg.onDisk = false;
        if (seg.bodyFile) await removeFile(this.bodyPath(binId, seg.n));
        seg.bodyFile = false;
        // (One never written costs no file operation: a flood into a full bin empties many.
        // After a failure above, a retry finds onDisk false: start-up removes what is left.)
        if (renamed) await removeFile(removing);
      } catch (err) {
        this.markDirty(seg);
        throw err;
      }
      f.segs.delete(seg.n);
      if (f.open === seg) f.open = null;
      this.cache.delete(`m:${binId}:${seg.n}`);
      return;
    }
    try {
      await this.ensureDir(binId, f);
    } catch (err) {
      this.markDirty(seg);
      throw err;
    }
    const writing = seg.pending;
    seg.pending = [];
    const writeMark = seg.writeMark;
    seg.writeMark = false;
    let restorePatched = () => {};
    // Everything about the entries being written is taken now: an entry evicted or deleted
    // during the awaits below drops its `pend`, but its bytes still go where planned.
    const offsets = new Map<DiskEntry, { off: number; src: CapturedRequest; wrote?: CapturedRequest | null }>();
    const bodies: Buffer[] = [];
    let end = seg.fileBytes;
    for (const e of writing) {
      offsets.set(e, { off: end, src: e.pend! });
      bodies.push(e.pend!.body);
      end += e.bytes;
    }
    // The open segment keeps its files open; a sealed one is written and closed.
    seg.busy = true;
    try {
      if (writing.length) {
        seg.bodyFile = true;
        seg.fh ??= await openForWrite(this.bodyPath(binId, seg.n));
        await writeAt(seg.fh, bodies, seg.fileBytes);
      }
      const patched = seg.patched;
      const changes = takeChanges(seg);
      seg.patched = undefined; // changes from here on go to the next rewrite
      seg.flushing = patched;
      restorePatched = () => {
        // The write failed: keep the changes for the next try (newer ones win). What changed
        // is then what changed since the last write that worked: both changes, merged. A
        // request changed again since as a whole record (see the end) is written whole.
        if (changes) {
          for (const [k, v] of changes) {
            const newer = seg.changes?.get(k);
            if (newer) seg.changes!.set(k, Object.assign(Object.assign({}, v), newer));
            else if (!seg.patched?.has(k)) (seg.changes ??= new Map()).set(k, v);
          }
        }
        if (patched) for (const [k, v] of patched) if (!seg.patched?.has(k)) (seg.patched ??= new Map()).set(k, v);
      };
      // The requests whose bodies just went out (those gone meanwhile are left out).
      const fresh: DiskRecord[] = [];
      for (const e of writing) {
        if (e.gone) continue;
        const w = offsets.get(e)!;
        w.wrote = e.pend;
        // strip() makes a copy of our own: the offset goes on it rather than on another copy.
        const rec = strip(e.pend ?? w.src) as DiskRecord;
        rec.bodyOffset = w.off;
        // Written records stay in the cache: their headers' repeated strings shared (done here,
        // not on arrival: a flood into a full bin pushes most captures out before they are written).
        internFlat(rec.headers);
        fresh.push(rec);
      }
      const key = `m:${binId}:${seg.n}`;
      if (seg.legacy || seg.lines > LOG_COMPACT_FACTOR * seg.live + LOG_COMPACT_SLACK) {
        // Written whole (an earlier build's file, or a log grown long with changes).
        const onDisk = seg.onDisk ? await this.segRecords(seg) : null;
        const freshById = new Map(fresh.map((r) => [r.id, r]));
        const records: DiskRecord[] = [];
        for (const e of seg.entries) {
          if (e.gone) continue;
          const r = freshById.get(e.id) ?? (e.off >= 0 ? (patched?.get(e.id) ?? onDisk?.get(e.id)) : undefined);
          if (r) records.push(r);
        }
        await this.replaceLog(f, seg, records);
      } else {
        // Appended: what changed since the last write.
        let text = seg.logBytes === 0 ? headerLine(binId, seg.n) : '';
        let lines = text ? 1 : 0;
        for (const r of fresh) text += recordLine(r);
        lines += fresh.length;
        if (patched) {
          for (const [id, r] of patched) {
            if (this.index.get(binId, id)?.seg !== seg) continue; // gone since
            const change = changes?.get(id);
            text += (change && patchLine(id, change)) || recordLine(r);
            lines++;
          }
        }
        if (writeMark) {
          text += markLine(f.evictedThrough, f.evictedSeq);
          lines++;
        }
        await this.appendLog(seg, text);
        seg.lines += lines;
        const cached = seg.onDisk ? (this.cache.get(key) as Map<string, DiskRecord> | undefined) : new Map<string, DiskRecord>();
        if (cached) {
          for (const r of fresh) cached.set(r.id, r);
          if (patched) for (const [id, r] of patched) if (cached.has(id)) cached.set(id, r);
          this.cache.set(key, cached, estimateBytes(cached));
        }
      }
      seg.busy = false;
      if (seg !== f.open) this.closeBody(seg);
      seg.onDisk = true;
      seg.fileBytes = end;
      seg.gen++;
      seg.flushing = undefined;
    } catch (err) {
      seg.busy = false;
      seg.flushing = undefined;
      restorePatched();
      if (writeMark) seg.writeMark = true;
      // A fresh open next time: the file may have gone (a directory removed under us).
      this.closeBody(seg);
      // Back in line, in order; the next flush writes them at the same place.
      const left = writing.filter((e) => e.pend);
      seg.pending = left.concat(seg.pending);
      this.markDirty(seg);
      throw err;
    }
    // Only the newest of a write stay cached: a flood writes thousands per flush, and caching
    // each (a key, an entry, its removal when pushed out) cost more than the write itself.
    const cacheFrom = writing.length - CACHED_PER_WRITE;
    for (let i = 0; i < writing.length; i++) {
      const e = writing[i];
      if (!e.pend) continue; // deleted or evicted meanwhile
      const body = e.pend.body;
      const w = offsets.get(e)!;
      e.off = w.off;
      // Annotated while this was being written: the change goes with the next rewrite.
      if (w.wrote !== e.pend) {
        (seg.patched ??= new Map()).set(e.id, { ...strip(e.pend), bodyOffset: w.off });
        seg.changes?.delete(e.id); // written whole
        this.markDirty(seg);
      }
      e.pend = null;
      this.pending -= e.bytes;
      // Just captured: the likeliest to be opened next.
      if (i >= cacheFrom) {
        // Its own bytes: a small body is a view of Node's 8 KiB pool, which it would pin.
        this.cache.set(`b:${binId}:${e.id}`, ownBytes(body), body.length);
        e.cached = true;
      }
    }
    seg.entries = seg.entries.filter((e) => !e.gone);
  }

  // -------------------------------------------------------------------- load

  /**
   * Load a bin's segments: metadata only. Temp files of interrupted writes and removals a stop
   * cut short (REMOVING) are cleared; the newest body file with no journal yet (a crash before
   * its first line) and body bytes past what metadata knows are cut, said, once every bin
   * loaded (applyCuts); a body file with no journal while later segments have theirs is
   * refused (a lost journal); segments of earlier builds (bodies inline) are carried over.
   */
  async loadBin(binId: string): Promise<void> {
    const dir = this.binDir(binId);
    const f = this.binFiles(binId);
    let names: string[];
    try {
      names = await readdir(dir);
      f.dirExists = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(dir, e);
      names = [];
    }
    await removeTempFiles(dir, names);
    if (f.dirExists) await tightenModes(dir, names);
    const numbered = (ext: string) => new Set(names.filter((n) => n.endsWith(ext) && /^\d+\.\w+$/.test(n)).map((n) => Number(n.slice(0, -ext.length))));
    // Segments whose removal a stop cut short (see REMOVING): finished, as nothing of them was live.
    for (const n of numbered(REMOVING)) {
      await rm(this.bodyPath(binId, n), { force: true });
      await rm(path.join(dir, `${segName(n)}${REMOVING}`), { force: true });
      names = names.filter((x) => x !== `${segName(n)}.body` && x !== `${segName(n)}${REMOVING}`);
    }
    const jsons = numbered('.json');
    const logs = numbered('.log');
    const bodies = numbered('.body');
    const metas = [...new Set([...jsons, ...logs])].sort((a, b) => a - b);
    // The bin's newest segment: the only one a crash can leave with a body and no journal line
    // yet (a flush writes segments in order, bodies before their journal's lines).
    const newest = Math.max(-1, ...metas, ...bodies);
    for (const n of bodies) {
      if (jsons.has(n) || logs.has(n)) continue;
      const file = this.bodyPath(binId, n);
      const size = await fileSize(file).catch((e) => {
        throw unreadable(file, e);
      });
      if (n !== newest) throw lostJournal(file, n, size, false);
      // A crash before its first journal line: those captures were never listed. Removed, and said.
      if (size > 0) this.cuts.push({ file, bytes: size, zeros: false, what: 'orphan', apply: () => rm(file, { force: true }) });
      else await rm(file, { force: true });
    }
    // The next segments' logs and body sizes are asked for while one is looked at: one after
    // another, start-up waited on ~5 thread-pool round trips per segment (most of a large
    // store's load time). A few ahead only, as each holds files open (a bin may have thousands).
    const ahead = new Map<number, { log: ReturnType<DiskRequestLog['readLog']>; size: Promise<number> }>();
    const toRead = metas.filter((n) => logs.has(n));
    let nextRead = 0;
    const readAhead = () => {
      while (nextRead < toRead.length && ahead.size < SEGMENTS_READ_AHEAD) {
        const n = toRead[nextRead++];
        ahead.set(n, { log: awaitedLater(this.readLog(binId, n)), size: awaitedLater(fileSize(this.bodyPath(binId, n))) });
      }
    };
    readAhead();
    const loaded: { seg: Seg; records: DiskRecord[] }[] = [];
    for (const n of metas) {
      const read = ahead.get(n);
      ahead.delete(n);
      readAhead();
      let records: DiskRecord[];
      let log: { logBytes: number; lines: number } | null = null;
      let metaName: string;
      if (logs.has(n)) {
        // A log is only ever replaced whole (rename): with a .json beside it, that .json was
        // carried into it and its removal was cut short.
        if (jsons.has(n)) await rm(this.metaPath(binId, n), { force: true });
        const file = this.logPath(binId, n);
        const st = await read!.log;
        if (st.end === 0 && n !== newest) {
          // No whole line (empty, or one torn line) while later segments have journals: no
          // crash does that (a segment's first line goes with its first bodies, before any
          // later segment's). Its journal was emptied or lost.
          const size = await read!.size.catch(() => -1);
          if (size > 0) throw lostJournal(this.bodyPath(binId, n), n, size, true);
        }
        if (st.end < st.size) {
          // A torn last line (a crash mid-write), or zero bytes a power cut left: cut, and said.
          this.cuts.push({ file, bytes: st.size - st.end, zeros: st.zeros, what: 'segment', apply: () => truncateTo(file, st.end) });
        }
        records = [...st.records.values()];
        if (st.evictedThrough > f.evictedThrough) f.evictedThrough = st.evictedThrough;
        if (st.evictedSeq > f.evictedSeq) f.evictedSeq = st.evictedSeq;
        log = { logBytes: st.end, lines: st.lines };
        metaName = `${segName(n)}.log`;
      } else {
        const file = this.metaPath(binId, n);
        const data = await readJson<SegmentFile>(file, (d) => checkSegment(d, true));
        if (!data) continue;
        records = data.version === 1 ? await this.carryOver(binId, n, data as unknown as { requests: V1Record[] }, f) : data.requests;
        if (data.evictedThrough && data.evictedThrough > f.evictedThrough) f.evictedThrough = data.evictedThrough;
        if (data.evictedSeq && data.evictedSeq > f.evictedSeq) f.evictedSeq = data.evictedSeq;
        metaName = `${segName(n)}.json`;
      }
      // (An earlier build's segment was just carried over: its body file is new.)
      const seg = newSeg(n, binId, { count: records.length, bytes: 0, fileBytes: 0, onDisk: true, legacy: !log });
      if (log) {
        seg.logBytes = log.logBytes;
        seg.lines = log.lines;
      }
      records = await this.checkBodyFile(seg, records, metaName, log ? read?.size : undefined);
      let fileBytes = 0;
      for (const r of records) fileBytes = Math.max(fileBytes, r.bodyOffset + r.storedBytes);
      seg.bytes = seg.fileBytes = fileBytes;
      f.segs.set(n, seg);
      loaded.push({ seg, records });
      f.nextSeg = Math.max(f.nextSeg, n + 1);
    }
    // An earlier build kept a bin in one file, bins/<binId>.json: carry it into a segment.
    const legacyPath = path.join(this.o.dataDir, 'bins', `${binId}.json`);
    const legacy = await readJson<{ requests: V1Record[] }>(legacyPath, (d) => checkSegment(d, true));
    if (legacy) {
      const n = f.nextSeg++;
      const records = await this.carryOver(binId, n, legacy, f);
      const seg = newSeg(n, binId, { count: records.length, bytes: 0, fileBytes: 0, onDisk: true, legacy: true });
      for (const r of records) seg.fileBytes = Math.max(seg.fileBytes, r.bodyOffset + r.storedBytes);
      seg.bytes = seg.fileBytes;
      f.segs.set(n, seg);
      loaded.push({ seg, records });
      await rm(legacyPath, { force: true });
    }
    // Evicted before the stop but still on disk (evictions are lazy): drop them again, by the
    // eviction mark, then (should the cap have been lowered) by the cap.
    const all: DiskEntry[] = [];
    const seen = new Set<string>();
    for (const { seg, records } of loaded) {
      for (const r of records) {
        if (r.id <= f.evictedThrough || seen.has(r.id)) continue;
        seen.add(r.id);
        // Its head re-counted from the record (as append counted it): nothing stored for it, so
        // records written before heads counted load as they are.
        const e: DiskEntry = { id: r.id, binId, item: toItem(r), bytes: r.storedBytes, head: headBytes(r), seg, off: r.bodyOffset, pend: null };
        all.push(e);
      }
    }
    all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // Captures a short body file dropped: those not evicted already.
    for (const c of this.cuts) if (c.binId === binId && c.ids && c.short) c.short.captures = c.ids.filter((id) => id > f.evictedThrough).length;
    const cap = this.o.maxRequestsPerBin;
    const kept = cap !== undefined && all.length > cap ? all.slice(all.length - cap) : all;
    for (const e of kept) {
      e.seg.entries.push(e);
      e.seg.live++;
    }
    for (const seg of f.segs.values()) {
      seg.entries.sort((a, b) => (a.id < b.id ? -1 : 1));
      if (seg.live === 0) this.markDirty(seg); // nothing left: remove its files
    }
    this.index.load(binId, kept);
    // Numbers of captures evicted before, or dropped just now by a lowered cap, stay used.
    this.index.usedSeq(binId, all.reduce((m, e) => Math.max(m, e.item.seq ?? 0), f.evictedSeq));
  }

  /**
   * Once every bin loaded: MAX_STORE_BYTES lowered since the captures were stored. The oldest
   * go, across bins, as eviction does (lazily: their bins' eviction marks are written with the
   * first flush), rather than all at once with the next capture. Answers what went.
   */
  applyBudget(): { requests: number; bytes: number } {
    let bytes = 0;
    const removed = this.index.trimToBudget();
    for (const e of removed) {
      bytes += countedBytes(e);
      this.gone(e, 'evicted');
    }
    return { requests: removed.length, bytes };
  }

  /**
   * A body file must hold every byte its metadata points at; bytes past that are cut off.
   * Shorter than its journal says (a power cut before the OS wrote it all, or damage): the
   * captures whose bytes are all there are kept, those past its end dropped (a deletion line
   * each in the journal, so the next start agrees) and said. Missing altogether, or beside an
   * earlier build's <n>.json (rewritten whole, not appended to), it is refused, naming the
   * journal to move aside and what that drops. Answers the records kept.
   */
  private async checkBodyFile(seg: Seg, records: DiskRecord[], metaName: string, asked?: Promise<number>): Promise<DiskRecord[]> {
    const { binId, n } = seg;
    const file = this.bodyPath(binId, n);
    const size = await (asked ?? fileSize(file)).catch((e) => {
      throw unreadable(file, e);
    });
    let needed = 0;
    for (const r of records) needed = Math.max(needed, r.bodyOffset + r.storedBytes);
    if (size === -1 && needed === 0) return records;
    if (size < needed) {
      const kept = records.filter((r) => r.bodyOffset + r.storedBytes <= size);
      const cut = records.filter((r) => r.bodyOffset + r.storedBytes > size);
      if (size === -1 || seg.legacy) {
        throw new DataFileError(
          file,
          size === -1 ? `it is missing, but ${metaName} beside it lists ${records.length} capture(s) whose bodies are there (${needed} bytes)` : `it holds ${size} bytes but ${metaName} points at ${needed}: ${cut.length} of its ${records.length} capture(s) have bodies past its end`,
          `hooklab has changed nothing. Put ${segName(n)}.body back (from a backup) and start again; or, to drop ${size === -1 ? 'those' : 'all'} ${records.length} capture(s), move ${metaName} out of the bin's directory${size === -1 ? '' : ` (and ${segName(n)}.body with it)`} and start again; see README "Storage".`,
        );
      }
      let keptBytes = 0;
      for (const r of kept) keptBytes = Math.max(keptBytes, r.bodyOffset + r.storedBytes);
      const log = this.logPath(binId, n);
      const text = Buffer.from(cut.map((r) => deleteLine(r.id)).join(''));
      this.cuts.push({
        file,
        bytes: needed - size,
        zeros: false,
        what: 'short',
        short: { size, needed, captures: cut.length },
        ids: cut.map((r) => r.id),
        binId,
        apply: async () => {
          // Recorded first: a stop in between leaves body bytes past what the journal knows (cut then, and said).
          await writeFileAt(log, [text], seg.logBytes);
          seg.logBytes += text.length;
          seg.lines += cut.length;
          await truncateTo(file, keptBytes);
        },
      });
      return kept;
    }
    if (size > needed) {
      // Bodies no metadata points at: a write a crash cut short, or captures whose metadata
      // lines were lost (a torn log). New bodies go at `needed`, so they are cut (and said).
      this.cuts.push({ file, bytes: size - needed, zeros: false, what: 'body', apply: () => truncateTo(file, needed) });
    }
    return records;
  }

  /** Version 1 records (bodies inline) into a body file plus version 2 metadata. */
  private async carryOver(binId: string, n: number, data: { requests: V1Record[] }, f: BinFiles): Promise<DiskRecord[]> {
    f.dirExists = true;
    await mkdir(this.binDir(binId), { recursive: true, mode: DIR_MODE });
    const bodies: Buffer[] = [];
    const records: DiskRecord[] = [];
    let off = 0;
    for (const r of data.requests) {
      const body = Buffer.from(r.body, 'base64');
      const { body: _b, ...meta } = r;
      records.push({ ...meta, storedBytes: body.length, bodyOffset: off });
      bodies.push(body);
      off += body.length;
    }
    await writeFileAt(this.bodyPath(binId, n), bodies, 0);
    await writeJson(this.metaPath(binId, n), { version: SEGMENT_VERSION, binId, segment: n, evictedThrough: f.evictedThrough, requests: records });
    return records;
  }

  /**
   * Make the cuts loadBin found (once every bin loaded: a refusal touches nothing), and answer
   * them for start-up to say so; once.
   */
  async applyCuts(): Promise<TailCut[]> {
    const c = this.cuts;
    this.cuts = [];
    for (const cut of c) await cut.apply();
    return c.map(({ apply: _a, ids: _i, binId: _b, ...t }) => t);
  }

  /**
   * Before the bins load: what is under bins/ that the bin list does not hold. A directory
   * marked deleted (DELETED_MARK) was deleted on purpose, its removal cut short: removed, as
   * is a cleared bin's directory moved aside. One with no mark is data bins.log does not list:
   * with `strict`, start-up refuses (DataFileError), having changed nothing; without (the bin
   * list came from an earlier build's hooklab.json, whose builds made no marks) it is removed.
   * A mark in a bin that is listed is a deletion that was never recorded: the mark goes. One
   * with no mark that holds no bytes (a bin made while writes failed, the process then killed
   * before bins.log had it) has nothing to lose: removed, counted apart.
   * Answers the bins removed, and how many of them were such empty directories.
   */
  async checkBinDirs(strict: boolean, binsLog: string): Promise<{ removed: string[]; empty: number }> {
    const dir = path.join(this.o.dataDir, 'bins');
    const names = await readdir(dir).catch(() => [] as string[]);
    const aside: string[] = [];
    const marked: string[] = [];
    const unmarked: string[] = [];
    const empty: string[] = [];
    const unmark: string[] = [];
    for (const name of names) {
      if (name.startsWith(ASIDE_PREFIX)) {
        aside.push(name);
        continue;
      }
      if (name.startsWith('.')) continue;
      const st = await stat(path.join(dir, name)).catch(() => null);
      if (!st) continue;
      if (st.isDirectory()) {
        const mark = await stat(path.join(dir, name, DELETED_MARK)).then(() => true, () => false);
        if (this.o.binExists(name)) {
          if (mark) unmark.push(name);
        } else if (mark) marked.push(name);
        else if (await holdsBytes(path.join(dir, name))) unmarked.push(name);
        else empty.push(name);
      } else if (st.isFile() && name.endsWith('.json') && !this.o.binExists(name.slice(0, -5))) {
        unmarked.push(name); // an earlier build's bin file (bins/<id>.json)
      }
      // Anything else is not hooklab's: left alone.
    }
    if (strict && unmarked.length) {
      // Which ones is not said: the names are bin ids (the receivers' secret).
      throw new DataFileError(
        binsLog,
        `${unmarked.length} bin director${unmarked.length === 1 ? 'y' : 'ies'} under ${dir} hold data that it does not list, and ${unmarked.length === 1 ? 'was' : 'were'} not deleted through hooklab (a deleted bin's directory is marked so before it goes). ` +
          'bins.log may be damaged or cut short',
        'hooklab has changed nothing. Restore bins.log (from a backup), or move those directories out of bins/ (compare `ls` of it with the ids in bins.log), and start again; see README "Storage".',
      );
    }
    for (const name of unmark) await rm(path.join(dir, name, DELETED_MARK), { force: true });
    for (const name of aside) await rm(path.join(dir, name), { recursive: true, force: true });
    const gone: string[] = [];
    for (const name of [...marked, ...unmarked, ...empty]) {
      await rm(path.join(dir, name), { recursive: true, force: true });
      gone.push(name.endsWith('.json') ? name.slice(0, -5) : name);
    }
    await removeTempFiles(dir);
    return { removed: gone, empty: empty.length };
  }
}

/**
 * A body file with no usable journal beside it while a later segment of its bin has one: not
 * what a crash leaves (see loadBin), so its journal was lost. Refused, touching nothing.
 */
function lostJournal(file: string, n: number, size: number, emptyLog: boolean): DataFileError {
  const log = `${segName(n)}.log`;
  return new DataFileError(
    file,
    `${emptyLog ? `${log} beside it holds no whole line` : `it has no journal (${log} is missing)`} while later segments of this bin have theirs, so that journal was lost or emptied (a process crash does not do this; a power cut can, since the OS may write files out of order): the ${size} bytes of bodies there belong to captures hooklab can no longer list`,
    `hooklab has changed nothing. Restore ${log} (from a backup) and start again; or, to drop those captures, move ${segName(n)}.body${emptyLog ? ` and ${log}` : ''} out of the bin's directory and start again; see README "Storage".`,
  );
}

/** Rename a file; not there is fine (nothing to rename). */
async function renameIfThere(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Whether a directory holds anything but empty files (a deletion mark aside): a sub-directory counts. */
async function holdsBytes(dir: string): Promise<boolean> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === DELETED_MARK) continue;
    if (!e.isFile()) return true;
    const st = await stat(path.join(dir, e.name)).catch(() => null);
    if (st && st.size > 0) return true;
  }
  return false;
}

/**
 * A bin's directory made by an earlier build (0755; files rewritten whole were 0644): this
 * user's only, once (one stat per bin at start-up when already so). Best effort: a file system
 * that has no modes is left as it is.
 */
async function tightenModes(dir: string, names: string[]): Promise<void> {
  const st = await stat(dir).catch(() => null);
  if (!st || (st.mode & 0o077) === 0) return;
  await chmod(dir, DIR_MODE).catch(() => {});
  for (const name of names) await chmod(path.join(dir, name), FILE_MODE).catch(() => {});
}

function checkSegment(d: unknown, allowV1 = false): string | null {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return 'not a JSON object';
  const o = d as Record<string, unknown>;
  if (!Array.isArray(o.requests)) return '"requests" is not a list';
  if (o.version !== SEGMENT_VERSION && !(allowV1 && o.version === 1)) return `unknown format version ${JSON.stringify(o.version)}`;
  return null;
}

function newSeg(n: number, binId: string, s: Pick<Seg, 'count' | 'bytes' | 'fileBytes' | 'onDisk' | 'legacy'>): Seg {
  // One found at load (onDisk) may have a body file; a new one has none yet.
  return { n, binId, entries: [], live: 0, pending: [], fh: null, busy: false, dirty: false, logBytes: 0, lines: 0, lfh: null, writeMark: false, gen: 0, bodyFile: s.onDisk, ...s };
}

/** Each record's size, once worked out (a cached segment is charged again after every write to it). */
const recordSizes = new WeakMap<DiskRecord, number>();

/**
 * Rough heap size of a capture's parsed metadata: a fixed part and its strings, headers above
 * all (up to MAX_HEADER_BYTES each: a flat 1 KB per capture let metadata with 60 KB of headers
 * stay in memory ~60x past the budget). Strings shared with others (interned) are charged
 * in full: over, not under.
 */
function recordBytes(r: DiskRecord): number {
  let n = recordSizes.get(r);
  if (n === undefined) {
    n = 640 + r.path.length + r.queryString.length;
    for (const list of [r.headers, r.trailers]) if (Array.isArray(list)) for (const x of list) n += 24 + x.length;
    // Forward records (response headers, first bytes) and verdicts (signed strings): as JSON.
    if (r.forwards?.length) n += 2 * JSON.stringify(r.forwards).length;
    if (r.verification) n += 2 * JSON.stringify(r.verification).length;
    recordSizes.set(r, n);
  }
  return n;
}

/** Rough heap size of a segment's parsed metadata, for the cache's budget. */
function estimateBytes(records: ReadonlyMap<string, DiskRecord>): number {
  let n = 256;
  for (const r of records.values()) n += recordBytes(r);
  return n;
}

/** A promise awaited later, or never (a load that failed earlier): its rejection is not unhandled meanwhile. */
function awaitedLater<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}
