// The default driver: in-memory collections persisted with lowdb, and captured requests on
// disk (disk/request-log.ts), under DATA_DIR:
//   bins.log, webhooks.log,      bins, webhooks, runs, forward and signature settings, response
//   runs.log, forwards.log,      settings and plan positions (a plan moves with every request),
//   verifications.log,           deliveries: one append-only journal each (disk/record-journal.ts),
//   responses.log,               so a change writes one short line, however much is kept
//   deliveries.log, replays.log  (replays.log: bulk replay jobs and their progress)
//   clock.json                   the virtual clock (one small record)
//   bins/<binId>/<n>.json|.body  a bin's captured requests: metadata, and bodies written once
// (Earlier builds kept the first four and the clock in one hooklab.json, rewritten whole on
// every change; it is carried over into the journals at start-up, then removed.)
// Changes are coalesced: what changed is written together every FLUSH_INTERVAL_MS, each part
// in proportion to what changed. A hard kill loses at most that interval plus the write in
// flight. Bin creation and deletion, and deleting requests, wait for their write before they
// answer, so they are never undone by a crash.
//
// Faults are loud: when a write fails (disk full, read-only, a directory gone) health()
// reports it, the receiver refuses new captures with 503, what was acknowledged stays in
// memory and is written again every second until it succeeds, and close() rejects with what
// could not be saved. A capture that cannot be read back is a warning in health() (counted):
// writes still work, so captures go on.
//
// Deletions (a bin, a bin's captures, one capture) are recorded before they take effect, with
// no flush under way: each is on disk when it resolves, or throws ChangeNotRecordedError having
// changed nothing. They need no flush of anything else, so they work during a fault: clearing
// a bin on a full disk frees its space.
//
// Files are created 0600 and directories 0700 (disk/files.ts); those of earlier builds are
// made so at start-up.
//
// One hooklab per DATA_DIR: open() takes DATA_DIR/hooklab.lock (disk/data-dir-lock.ts) and
// close() lets it go. Start-up removes a bin directory bins.log does not list only when it is
// marked deleted (request-log.ts, DELETED_MARK): any other means bins.log lost lines, and it
// refuses, touching nothing. What it cuts from the ends of files (torn or zeroed) is said, in
// the log and in health.
import { chmod, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Delivery, Run } from '../../shared/api.ts';
import { MAX_REPLAY_JOBS } from '../../shared/schema/forward.ts';
import { BinMap, DeliveryMap, MapCollection, ReplayMap, RunMap } from './collections.ts';
import { DataDirLock } from './disk/data-dir-lock.ts';
import { DataDirIdentity, isDataDirIdentityError } from './disk/data-dir-identity.ts';
import { RecordJournal } from './disk/record-journal.ts';
import { makeDirs } from '../lib/make-dirs.ts';
import { DIR_MODE, DataFileError, FILE_MODE, faultOf, readJson, removeTempFiles, whatFailed, whatFailedReading, writeJson } from './disk/files.ts';
import { DiskRequestLog, type TailCut } from './disk/request-log.ts';
import { errorText, redactDataPaths } from './redact.ts';
import { eachLimited } from '../lib/each-limited.ts';
import {
  type ClockPersisted,
  type Store,
  type StoreFault,
  type StoreHealth,
  type StoredBin,
  type StoredForward,
  type StoredReplay,
  type StoredVerify,
  type StoredResponseControl,
  type StoredWebhook,
  ChangeNotRecordedError,
  StoreUnavailableError,
  UnsavedDataError,
} from './types.ts';

export { DataFileError } from './disk/files.ts';
export { DataDirLockedError } from './disk/data-dir-lock.ts';

const FORMAT_VERSION = 1;
const MAX_WARNINGS = 10;
/** How long one check of DATA_DIR's identity answers /api/health (a stat each time it is asked is cheap, but health may be polled hard). */
const IDENTITY_PROBE_MS = 1000;
/** Read failures are logged at most this often (each is counted in health). */
const READ_FAULT_LOG_MS = 60_000;
/** Files directly under DATA_DIR that earlier builds may have left 0644 (steno's default mode). */
const TOP_LEVEL_FILES = ['clock.json', 'hooklab.json', 'responses.json', 'deliveries.json'];
/** Bins loaded at once at start-up (their file reads overlap; more only queue in the thread pool). */
const LOAD_BINS_AT_ONCE = 8;
/** Files cut at start-up listed one by one in health (more: one line for the rest; each is logged). */
const CUTS_IN_HEALTH = 3;

/** An earlier build's hooklab.json (now one journal per collection, and clock.json). */
interface LegacyMainFile {
  version: number;
  bins: StoredBin[];
  /** Only in files of earlier builds: now in responses.log. */
  responses?: StoredResponseControl[];
  webhooks: StoredWebhook[];
  runs: Run[];
  clock: ClockPersisted | null;
  /** Bins' forward targets and signature settings (absent in files of earlier builds). */
  forwards?: StoredForward[];
  verifications?: StoredVerify[];
}
interface ClockFile {
  version: number;
  clock: ClockPersisted | null;
}
/** An earlier build's response settings file (now responses.log). */
interface LegacyResponsesFile {
  version: number;
  responses: StoredResponseControl[];
}
interface LegacyDeliveriesFile {
  version: number;
  deliveries: Delivery[];
}


/** DATA_DIR cannot be used at all (start-up refuses). */
export class DataDirError extends Error {}

export interface LowdbStoreOptions {
  dataDir: string;
  flushIntervalMs: number;
  /** Requests per segment file (tests use small ones). */
  segmentSize?: number;
  /** Body bytes per segment file. */
  segmentBytes?: number;
  /** MAX_REQUESTS_PER_BIN: on load, requests evicted but still on disk are dropped. */
  maxRequestsPerBin?: number;
  /** MAX_STORE_BYTES: bytes kept across bins, bodies and heads (head-bytes.ts); the oldest captures go first. */
  maxStoreBytes?: number;
  /** CACHE_BYTES: bodies and metadata kept in memory after reading them back. */
  cacheBytes?: number;
  maxFinishedDeliveries?: number;
  maxEndedRuns?: number;
  /** Writes started failing (with the first error), or succeed again (fault null). */
  onFault?: (fault: StoreFault | null, err?: unknown) => void;
  onWarning?: (message: string, detail?: Record<string, unknown>) => void;
  /**
   * A write of everything dirty finished (ok or not): when it started (wall clock) and how long
   * it took. What was acknowledged before `startedAt` is on disk once an ok one is reported.
   */
  onFlushed?: (f: { startedAt: number; ms: number; ok: boolean }) => void;
  /** Wall clock, for fault times. */
  now?: () => number;
}

const isObj = (d: unknown): d is Record<string, unknown> => typeof d === 'object' && d !== null && !Array.isArray(d);

function shape(d: unknown, lists: string[]): string | null {
  if (!isObj(d)) return 'not a JSON object';
  for (const k of lists) if (!Array.isArray(d[k])) return `"${k}" is not a list`;
  if (d.version !== FORMAT_VERSION) return `unknown format version ${JSON.stringify(d.version)}`;
  return null;
}

export class LowdbStore implements Store {
  readonly bins: BinMap;
  readonly requests: DiskRequestLog;
  readonly responses: MapCollection<StoredResponseControl>;
  readonly webhooks: MapCollection<StoredWebhook>;
  readonly deliveries: DeliveryMap;
  readonly runs: RunMap;
  readonly forwards: MapCollection<StoredForward>;
  readonly verifications: MapCollection<StoredVerify>;
  readonly replays: ReplayMap;
  private clock: ClockPersisted | null = null;
  /** clock.json has a change not yet written. */
  private clockDirty = false;
  private readonly binsJournal: RecordJournal<StoredBin>;
  private readonly journal: RecordJournal<Delivery>;
  private readonly responsesJournal: RecordJournal<StoredResponseControl>;
  /** Every journal, with what it holds (for a stop that could not write it). */
  private readonly journals: { journal: Pick<RecordJournal<{ id: string }>, 'hasDirty' | 'flush' | 'closeFile' | 'cutTornTail' | 'takeFoundEmpty' | 'path'>; holds: string }[];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  /** A flush queued behind the one running, not yet started. */
  private nextFlush: Promise<void> | null = null;
  private loading = true;
  private closed = false;
  private fault: StoreFault | null = null;
  private lastError: unknown = null;
  private readonly warnings: string[] = [];
  /** Captures that could not be read back: how many, when first and last, and why (last). */
  private readFaults: { count: number; first: number; last: number; what: string; loggedAt: number } | null = null;
  private readonly now: () => number;
  /** When the oldest capture change not covered by a write begun since was made (performance.now()), or null. */
  private dirtySince: number | null = null;
  /** When the oldest change the write under way (or a failed one) covers was made, or null. */
  private writingSince: number | null = null;
  /** DATA_DIR's lock (disk/data-dir-lock.ts), held from open() to close(). */
  private lock: DataDirLock | null = null;
  /** DATA_DIR's device and inode at start-up: nothing is written into another directory (an unmounted volume's mount point). */
  private identity: DataDirIdentity | null = null;

  private constructor(private readonly opts: LowdbStoreOptions) {
    this.now = opts.now ?? Date.now;
    const schedule = () => this.schedule();
    const checkDir = () => this.checkDataDir();
    const journal = <T extends { id: string }>(file: string, current: () => Iterable<T>, appendOnly?: keyof T & string) =>
      new RecordJournal<T>({ file: this.path(file), current, onDirty: schedule, appendOnly, checkDir });
    this.requests = new DiskRequestLog({
      dataDir: opts.dataDir,
      segmentSize: opts.segmentSize,
      segmentBytes: opts.segmentBytes,
      maxRequestsPerBin: opts.maxRequestsPerBin,
      maxStoreBytes: opts.maxStoreBytes,
      cacheBytes: opts.cacheBytes,
      binExists: (id) => this.bins.map.has(id),
      onDirty: () => {
        this.dirtySince ??= performance.now();
        this.schedule();
      },
      onWarning: (m, detail) => this.warn(m, detail),
      exclusive: (fn) => this.exclusive(fn),
      onReadFault: (err) => this.readFailed(err),
      checkDataDir: checkDir,
    });
    this.binsJournal = journal('bins.log', () => this.bins.map.values());
    this.bins = new BinMap(this.binsJournal, (id) => this.requests.dropBin(id), () => this.durable(), (id) => this.removeBin(id));
    this.responsesJournal = journal('responses.log', () => this.responses.map.values());
    this.responses = new MapCollection(this.responsesJournal);
    const webhooks = journal('webhooks.log', () => this.webhooks.map.values());
    this.webhooks = new MapCollection(webhooks);
    const runs = journal('runs.log', () => this.runs.map.values());
    this.runs = new RunMap(runs, opts.maxEndedRuns ?? 500);
    const forwards = journal('forwards.log', () => this.forwards.map.values());
    this.forwards = new MapCollection(forwards);
    const verifications = journal('verifications.log', () => this.verifications.map.values());
    this.verifications = new MapCollection(verifications);
    const replays = journal('replays.log', () => this.replays.map.values());
    this.replays = new ReplayMap(replays, MAX_REPLAY_JOBS);
    this.journal = journal('deliveries.log', () => this.deliveries.map.values(), 'attempts');
    this.deliveries = new DeliveryMap(this.journal, opts.maxFinishedDeliveries ?? 5000);
    this.journals = [
      { journal: this.binsJournal, holds: 'bins (bins.log)' },
      { journal: webhooks, holds: 'webhooks (webhooks.log)' },
      { journal: runs, holds: 'runs (runs.log)' },
      { journal: forwards, holds: 'forward settings (forwards.log)' },
      { journal: verifications, holds: 'signature settings (verifications.log)' },
      { journal: this.responsesJournal, holds: 'response settings and plan positions (responses.log)' },
      { journal: this.journal, holds: 'delivery changes (deliveries.log)' },
      { journal: replays, holds: 'bulk replay progress (replays.log)' },
    ];
    this.collections = { webhooks, runs, forwards, verifications, replays };
  }

  /** The journals of the small collections, for loading them. */
  private readonly collections: {
    webhooks: RecordJournal<StoredWebhook>;
    runs: RecordJournal<Run>;
    forwards: RecordJournal<StoredForward>;
    verifications: RecordJournal<StoredVerify>;
    replays: RecordJournal<StoredReplay>;
  };

  static async open(opts: LowdbStoreOptions): Promise<LowdbStore> {
    const s = new LowdbStore(opts);
    await s.checkWritable();
    s.identity = await DataDirIdentity.remember(opts.dataDir);
    // One hooklab per DATA_DIR: a second would overwrite the first's journals.
    s.lock = await DataDirLock.acquire(opts.dataDir, (m) => opts.onWarning?.(m));
    try {
      await s.load();
    } catch (err) {
      s.lock.release();
      throw err;
    }
    return s;
  }

  /** Throws unless DATA_DIR is still the directory hooklab started on (data-dir-identity.ts). */
  private async checkDataDir(): Promise<void> {
    await this.identity?.check();
  }

  /** The last check() (shared by the health calls within IDENTITY_PROBE_MS of it), and when it began. */
  private probe: { at: number; done: Promise<void> } | null = null;

  /**
   * Check DATA_DIR now (/api/health asks, before health()). Writes check it too, but an idle
   * server writes nothing: its volume unmounted, health said "ok" until the next capture. A
   * mismatch is the fault at once, retried every second as any fault (it ends when the
   * directory is back). One stat, shared by calls within IDENTITY_PROBE_MS. Never rejects.
   */
  check(): Promise<void> {
    if (this.loading || this.closed || !this.identity) return Promise.resolve();
    const now = performance.now();
    if (this.probe && now - this.probe.at < IDENTITY_PROBE_MS) return this.probe.done;
    const done = this.checkDataDir().then(
      () => {},
      (err) => {
        if (!this.closed) this.failed([err]);
      },
    );
    this.probe = { at: now, done };
    return done;
  }

  private path(...parts: string[]) {
    return path.join(this.opts.dataDir, ...parts);
  }

  /** Refuse to start on a DATA_DIR hooklab cannot write, rather than fail on the first capture. */
  private async checkWritable() {
    const dir = this.opts.dataDir;
    try {
      // (An existing DATA_DIR keeps its mode: it may be the operator's. What is in it is not readable by others.)
      await makeDirs(dir, DIR_MODE);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // ENOENT here: the parent exists but takes no new directory (/proc, some mounts), not "missing".
      const why =
        e.code === 'ENOENT' ? `${e.path ?? 'a directory on its path'} cannot be made there (ENOENT)` : e.code === 'ENOTDIR' ? `${e.path ?? 'a part of its path'} is a file, not a directory (ENOTDIR)` : whatFailed(e);
      throw new DataDirError(`DATA_DIR ${dir} cannot be created: ${why}. Point DATA_DIR at a writable directory (or fix its permissions or mount) and start again.`);
    }
    try {
      // A file written and removed: the real test (a read-only mount lets mkdir of an
      // existing directory pass).
      const probe = this.path('.hooklab-probe.tmp');
      await writeFile(probe, 'ok', { mode: FILE_MODE });
      await rm(probe);
      await mkdir(this.path('bins'), { recursive: true, mode: DIR_MODE });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // A full disk is fixed by freeing space, not by another directory.
      const fix = e.code === 'ENOSPC' || e.code === 'EDQUOT' ? 'Free space on its disk (or raise its quota)' : 'Point DATA_DIR at a writable directory (or fix its permissions or mount)';
      throw new DataDirError(`DATA_DIR ${dir} is not writable: ${whatFailed(e)}. ${fix} and start again.`);
    }
  }

  /**
   * Earlier builds made bins/ 0755 (its entries are bin ids) and wrote some files 0644: this
   * user's only now (bin directories: as each loads). Best effort: a file system without
   * modes is left as it is.
   */
  private async tightenModes() {
    const bins = this.path('bins');
    const st = await stat(bins).catch(() => null);
    if (st && st.mode & 0o077) await chmod(bins, DIR_MODE).catch(() => {});
    for (const name of TOP_LEVEL_FILES) {
      const f = await stat(this.path(name)).catch(() => null);
      if (f && f.mode & 0o077) await chmod(this.path(name), FILE_MODE).catch(() => {});
    }
  }

  private async load() {
    await removeTempFiles(this.opts.dataDir);
    await this.tightenModes();
    const c = this.collections;
    // bins.log is the bin list: written last when an earlier build's hooklab.json is carried
    // over, so while it is missing, hooklab.json (if any) is still the truth.
    const bins = await this.binsJournal.load();
    const main = bins ? null : await readJson<LegacyMainFile>(this.path('hooklab.json'), (d) => shape(d, ['bins', 'webhooks', 'runs']));
    if (main) {
      this.bins.load(main.bins);
      this.webhooks.load(main.webhooks);
      this.runs.load(main.runs);
      this.forwards.load(main.forwards ?? []);
      this.verifications.load(main.verifications ?? []);
      this.clock = main.clock;
    } else {
      if (!bins) {
        // Without the bin list, bins/ cannot be told apart from leftovers: refuse, touch nothing.
        const held = (await readdir(this.path('bins'))).filter((n) => !n.startsWith('.'));
        if (held.length) {
          throw new DataFileError(this.path('bins.log'), `missing, but ${this.path('bins')} holds data of ${held.length} bin(s); restore bins.log or move bins/ aside`);
        }
      } else {
        // A carry-over cut short after bins.log: the old file is stale (and holds secrets).
        await rm(this.path('hooklab.json'), { force: true });
      }
      this.bins.load(bins ?? []);
    }
    // Before anything else is touched: directories under bins/ the bin list does not hold. Only
    // those marked deleted go; any other means bins.log lost lines (refused: touch nothing).
    // (An earlier build's hooklab.json made no marks, and a JSON document is whole or refused.)
    const orphans = await this.requests.checkBinDirs(!main, this.path('bins.log'));
    if (!main) {
      this.webhooks.load((await c.webhooks.load()) ?? []);
      this.runs.load((await c.runs.load()) ?? []);
      this.forwards.load((await c.forwards.load()) ?? []);
      this.verifications.load((await c.verifications.load()) ?? []);
      this.clock = (await readJson<ClockFile>(this.path('clock.json'), (d) => shape(d, [])))?.clock ?? null;
    }
    const responses = await this.responsesJournal.load();
    if (responses) this.responses.load(responses);
    else {
      // Earlier builds' files: responses.json, or inside hooklab.json. Start the journal from
      // them, then drop them.
      const legacyFile = this.path('responses.json');
      const legacy = await readJson<LegacyResponsesFile>(legacyFile, (d) => shape(d, ['responses']));
      const carried = legacy?.responses ?? main?.responses;
      if (carried) {
        this.responses.load(carried);
        await this.responsesJournal.compact();
        await rm(legacyFile, { force: true });
      }
    }
    // Bulk replays (no earlier format to carry over).
    this.replays.load((await c.replays.load()) ?? []);
    const journal = await this.journal.load();
    if (journal) this.deliveries.load(journal);
    else {
      const legacyFile = this.path('deliveries.json');
      const legacy = await readJson<LegacyDeliveriesFile>(legacyFile, (d) => shape(d, ['deliveries']));
      if (legacy) {
        // An earlier build's single file: start the journal from it, then remove it.
        this.deliveries.load(legacy.deliveries);
        await this.journal.compact();
        await rm(legacyFile, { force: true });
      }
    }
    if (main) {
      // Carry an earlier build's hooklab.json over: every other journal first, bins.log last
      // (its presence says the others are complete), then the old file goes.
      for (const j of [c.webhooks, c.runs, c.forwards, c.verifications]) await j.compact();
      await writeJson<ClockFile>(this.path('clock.json'), { version: FORMAT_VERSION, clock: this.clock });
      await this.binsJournal.compact();
      await rm(this.path('hooklab.json'), { force: true });
    }
    // Bins load side by side: each waits mostly on file reads (the thread pool's), not on us.
    await eachLimited(this.bins.map.values(), LOAD_BINS_AT_ONCE, (bin) => this.requests.loadBin(bin.id));
    const deleted = orphans.removed.length - orphans.empty;
    if (deleted) this.warn(`Removed the data of ${deleted} bin(s) that were deleted just before the last stop.`);
    if (orphans.empty) this.warn(`Removed ${orphans.empty} empty bin director${orphans.empty === 1 ? 'y' : 'ies'} that bins.log does not list (bins made while writes failed, then a stop before bins.log had them; they held no data).`);
    await this.reportCuts();
    this.applyStoreBudget();
    this.loading = false;
    if (this.requests.hasDirty) this.schedule();
  }

  /**
   * MAX_STORE_BYTES lowered since the captures were stored: applied now, oldest first across
   * bins, and said in the log (a setting's effect, not a fault: not in health). Left to the
   * next capture, one 3-byte capture evicted hundreds of MB at once.
   */
  private applyStoreBudget() {
    const stored = this.requests.index.totalBytes;
    const { requests, bytes } = this.requests.applyBudget();
    if (!requests) return;
    this.opts.onWarning?.(
      `MAX_STORE_BYTES (${this.opts.maxStoreBytes}) is below the ${stored} bytes stored (bodies and heads): evicted the ${requests} oldest capture(s) (${bytes} bytes) across bins at start-up, as new captures would have. Their files go as their segments empty.`,
    );
  }

  /** A data file as the log and health name it: under DATA_DIR, a bin's id replaced. */
  private shown(file: string): string {
    const dir = this.opts.dataDir;
    const red = redactDataPaths(file, dir);
    return red.startsWith(dir + path.sep) ? `DATA_DIR/${red.slice(dir.length + 1)}` : red;
  }

  /**
   * Journals' torn tails are cut only now that nothing was refused; then every file whose end
   * start-up cut, and every journal it found emptied, is said: a line per file in the log, and
   * in health (a few, then a count).
   */
  private async reportCuts() {
    const cuts: TailCut[] = [];
    const emptied: string[] = [];
    for (const { journal, holds } of this.journals) {
      const t = await journal.cutTornTail();
      if (t) cuts.push({ file: journal.path, bytes: t.bytes, zeros: t.zeros, what: 'journal' });
      if (await journal.takeFoundEmpty()) {
        emptied.push(
          `Start-up found ${this.shown(journal.path)} empty, which hooklab never leaves a journal (it writes a first line): any ${holds.replace(/ \(.*\)$/, '')} it held are lost (damage, or an empty file put there). An earlier build of hooklab left empty journals of nothing: if this is its first start on this DATA_DIR, nothing is lost.`,
        );
      }
    }
    cuts.push(...(await this.requests.applyCuts()));
    const lines = cuts.map((c) => {
      if (c.what === 'orphan') {
        return `Start-up removed ${this.shown(c.file)} (${c.bytes} bytes), the bin's newest body file, which had no journal yet: bodies of captures whose first metadata line was never written (a crash, or a stop that could not write it, e.g. on a full disk, which hooklab said as it stopped); those captures are lost.`;
      }
      if (c.what === 'short' && c.short) {
        return (
          `Start-up found ${this.shown(c.file)} shorter than its journal says (${c.short.size} of ${c.short.needed} bytes: a power cut before the OS wrote it all, or damage): ` +
          `kept the captures whose bodies are whole and dropped ${c.short.captures} whose bodies were past its end (recorded in its journal).`
        );
      }
      const what =
        c.what === 'body'
          ? 'body bytes no capture points at: captures whose metadata was never written (a crash) or was cut from its log'
          : `what followed its last whole line (${c.zeros ? 'ending in zero bytes: an end the file system never wrote, as after a power cut, or damage' : 'a write a crash cut short, or damage'}): any ${c.what === 'segment' ? 'captures' : 'records'} or changes there are lost`;
      return `Start-up cut ${c.bytes} byte(s) from the end of ${this.shown(c.file)}, ${what}.`;
    });
    lines.push(...emptied);
    for (const l of lines) this.opts.onWarning?.(l);
    const inHealth = lines.length > CUTS_IN_HEALTH + 1 ? lines.slice(0, CUTS_IN_HEALTH) : lines;
    for (const l of inHealth) this.pushWarning(l);
    if (inHealth.length < lines.length) {
      // Cuts come first in `lines`, the emptied journals after them.
      const moreCuts = cuts.slice(inHealth.length);
      const moreEmpty = lines.length - inHealth.length - moreCuts.length;
      const said = [
        ...(moreCuts.length ? [`cut the ends of ${moreCuts.length} more data file(s) (${moreCuts.reduce((n, c) => n + c.bytes, 0)} bytes)`] : []),
        ...(moreEmpty ? [`found ${moreEmpty} more journal(s) empty`] : []),
      ];
      this.pushWarning(`Start-up ${said.join(' and ')}: each is in the log.`);
    }
  }

  // ------------------------------------------------------------------ writes

  private schedule() {
    if (this.loading || this.closed || this.timer) return;
    // During a fault, retry at most every second rather than every interval.
    const wait = this.fault ? Math.max(1000, this.opts.flushIntervalMs) : this.opts.flushIntervalMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, wait);
  }

  /**
   * Run `fn` with no flush under way, and none starting until it is done (flushes and these
   * run one after another). A deletion is recorded so: what it writes does not interleave
   * with a flush's writes to the same files.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.flushing.then(fn);
    this.flushing = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /**
   * Delete a bin: its removal is written to bins.log first (with what is queued there), and
   * only then is it forgotten with its captures (their files go right after). When the line
   * cannot be written (a full disk may refuse even that), the bin is put back where it was in
   * the list and ChangeNotRecordedError says nothing changed. (Meanwhile the bin was missing:
   * a capture sent to it got 404, as it would have once deleted.)
   */
  private removeBin(id: string): Promise<boolean> {
    return this.exclusive(async () => {
      const prev = this.bins.map.get(id);
      if (!prev) return false;
      const order = new Map([...this.bins.map.keys()].map((k, i) => [k, i]));
      const pos = order.get(id)!;
      // Out of the list first: a compaction of bins.log (if this write makes one) writes the list without it.
      this.bins.map.delete(id);
      try {
        // Its directory is marked first: start-up removes a directory bins.log does not list
        // only when so marked (any other means bins.log lost lines: it refuses).
        await this.requests.markDeleted(id);
        try {
          await this.binsJournal.removeNow(id);
        } catch (err) {
          await this.requests.unmarkDeleted(id);
          throw err;
        }
      } catch (err) {
        const now = [...this.bins.map];
        this.bins.map.clear();
        for (const [k, v] of now) {
          // Before the first that came after it (or was made meanwhile).
          if (!this.bins.map.has(id) && (order.get(k) ?? Infinity) > pos) this.bins.map.set(id, prev);
          this.bins.map.set(k, v);
        }
        if (!this.bins.map.has(id)) this.bins.map.set(id, prev);
        throw new ChangeNotRecordedError(`The bin was not deleted: cannot write to DATA_DIR (${whatFailed(err)}). Nothing changed; retry once writes succeed (see /api/health).`);
      }
      this.requests.dropBin(id);
      // Its files go now (on a full disk, that is the space freeing up); failing that, with the next flush.
      await this.requests.removeDeletedBins().catch(() => {});
      return true;
    });
  }

  /** Resolves once everything changed before the call is on disk; rejects while writes fail. */
  async durable(): Promise<void> {
    if (this.loading) return;
    await this.flush();
    if (this.fault) throw new StoreUnavailableError(this.fault.message);
  }

  /**
   * Write everything dirty. Flushes run one after another, never overlapping; callers that
   * come while one waits to start share it (one flush, however many ask). Never rejects.
   */
  flush(): Promise<void> {
    if (!this.nextFlush) {
      this.nextFlush = this.flushing.then(() => {
        this.nextFlush = null; // from here on, changes need the flush after this one
        return this.writeDirty();
      });
      this.flushing = this.nextFlush;
    }
    return this.nextFlush;
  }

  private get hasDirty() {
    return this.clockDirty || this.requests.hasDirty || this.journals.some((j) => j.journal.hasDirty);
  }

  private async writeDirty() {
    const startedAt = this.now();
    const t0 = performance.now();
    // What this write covers: every capture changed before it starts (see unwrittenForMs).
    const covers = this.dirtySince;
    this.dirtySince = null;
    if (covers !== null && (this.writingSince === null || covers < this.writingSince)) this.writingSince = covers;
    const ok = await this.writeDirtyOnce();
    if (ok) this.writingSince = null;
    this.opts.onFlushed?.({ startedAt, ms: performance.now() - t0, ok });
  }

  /**
   * How long the oldest capture change not yet on disk has waited (ms; 0 when none). Writes
   * are coalesced for FLUSH_INTERVAL_MS; a write that takes long (a flood on a busy CPU, a
   * slow disk) lets this grow, which the receiver bounds (see capture/receiver.ts).
   */
  unwrittenForMs(): number {
    const since = this.writingSince ?? this.dirtySince;
    return since === null ? 0 : performance.now() - since;
  }

  /** Answers whether everything got written. */
  private async writeDirtyOnce(): Promise<boolean> {
    const errors: unknown[] = [];
    // Not the directory hooklab started on (a volume unmounted: its mount point is left, empty,
    // on the disk below): nothing is written, everything stays dirty, retried as any fault.
    await this.checkDataDir().catch((err) => errors.push(err));
    if (errors.length) return this.failed(errors);
    const writeClock = this.clockDirty;
    this.clockDirty = false;
    let binsDurable = true;
    const fail = (err: unknown) => errors.push(err);
    await Promise.all([
      writeClock
        ? writeJson<ClockFile>(this.path('clock.json'), { version: FORMAT_VERSION, clock: this.clock }).catch((err) => {
            this.clockDirty = true;
            fail(err);
          })
        : null,
      this.binsJournal.flush().catch((err) => {
        binsDurable = false;
        fail(err);
      }),
      ...this.journals.filter((j) => j.journal !== this.binsJournal).map((j) => j.journal.flush().catch(fail)),
      this.requests.flush().catch(fail),
    ]);
    // A deleted bin's files go once its removal is on disk (a crash before that brings back
    // the bin with its requests, never a bin without them).
    if (binsDurable) await this.requests.removeDeletedBins().catch(fail);
    // Files stay open while writes keep coming; once idle they are closed (an idle bin holds
    // no descriptor, and nothing keeps the file system busy).
    if (!this.hasDirty) {
      this.requests.closeFiles();
      for (const j of this.journals) j.journal.closeFile();
    }
    if (errors.length) return this.failed(errors);
    if (this.fault) {
      // Everything that was due got written (new changes may already be waiting: fine).
      this.fault = null;
      this.opts.onFault?.(null);
    }
    return true;
  }

  /** A write failed: the fault is known (health, receivers), and it is retried. */
  private failed(errors: unknown[]): false {
    this.lastError = errors[0];
    const first = !this.fault;
    this.fault ??= faultOf(errors[0], this.now());
    if (first) this.opts.onFault?.(this.fault, errors[0]);
    // DATA_DIR's state changed during the fault (gone, then made again): say what it is now,
    // and so what to do (fault's start kept).
    else if (isDataDirIdentityError(errors[0])) {
      const now = faultOf(errors[0], Date.parse(this.fault!.since));
      if (now.message !== this.fault!.message) this.fault = now;
    }
    this.schedule();
    return false;
  }

  // ------------------------------------------------------------------ status

  private warn(message: string, detail?: Record<string, unknown>) {
    this.pushWarning(message);
    this.opts.onWarning?.(message, detail);
  }

  /** A warning in health only (its log line is the caller's). */
  private pushWarning(message: string) {
    this.warnings.push(`${new Date(this.now()).toISOString()} ${message}`);
    if (this.warnings.length > MAX_WARNINGS) this.warnings.shift();
  }

  /**
   * A capture the index holds could not be read back. A warning, not a fault: writes work, so
   * new captures are safe, and a fault would make the receiver refuse every bin's captures for
   * one bin's missing files. Counted in one line of health (no bin id), logged at most once a
   * minute (the path with the bin id replaced).
   */
  private readFailed(err: unknown) {
    const now = this.now();
    const rf = (this.readFaults ??= { count: 0, first: now, last: now, what: '', loggedAt: -Infinity });
    rf.count++;
    rf.last = now;
    rf.what = whatFailedReading(err);
    if (now - rf.loggedAt < READ_FAULT_LOG_MS) return;
    rf.loggedAt = now;
    this.opts.onWarning?.(`Reading stored captures failed (${rf.count} time(s) so far): ${rf.what}`, { error: errorText(err, this.opts.dataDir) });
  }

  health(): StoreHealth {
    const rf = this.readFaults;
    const reads = rf
      ? [
          `${new Date(rf.last).toISOString()} Reading stored captures failed ${rf.count} time(s) since ${new Date(rf.first).toISOString()} (last: ${rf.what}). ` +
            'A file under DATA_DIR/bins/ is missing or unreadable (a directory moved or removed by hand?); those captures answer 503 until it is back. ' +
            "A new capture to such a bin makes its directory again, and what was in it is forgotten. Writes are not affected.",
        ]
      : [];
    return { fault: this.fault, warnings: [...this.warnings, ...reads] };
  }

  async getClock() {
    return this.clock;
  }

  async setClock(c: ClockPersisted) {
    this.clock = c;
    if (this.loading || this.closed) return;
    this.clockDirty = true;
    this.schedule();
  }

  /** What is still not on disk, in words. */
  private unsavedSummary(): string {
    const parts: string[] = [];
    const r = this.requests.unsaved();
    if (r.requests || r.bins) parts.push(`${r.requests} capture(s) (${r.bytes} body bytes) in ${r.bins} bin(s)`);
    for (const j of this.journals) if (j.journal.hasDirty) parts.push(j.holds);
    if (this.clockDirty) parts.push('the clock (clock.json)');
    return parts.join('; ');
  }

  async close() {
    if (this.closed) return;
    // A flush under way holds changes that no longer count as dirty: wait for it first.
    await this.flushing;
    // A few rounds: a failing disk gets a moment to come back before we give up.
    for (let round = 0; round < 5 && this.hasDirty; round++) {
      if (round > 0) await new Promise((r) => setTimeout(r, 200 * round));
      await this.flush();
    }
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.requests.closeFiles();
    for (const j of this.journals) j.journal.closeFile();
    this.lock?.release();
    if (this.hasDirty) {
      throw new UnsavedDataError(`Not saved, ${this.lastError ? whatFailed(this.lastError) : 'writes failed'}: ${this.unsavedSummary()}.`);
    }
  }
}
