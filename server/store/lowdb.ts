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
// could not be saved.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Delivery, Run } from '../../shared/api.ts';
import { MAX_REPLAY_JOBS } from '../../shared/schema/forward.ts';
import { BinMap, DeliveryMap, MapCollection, ReplayMap, RunMap } from './collections.ts';
import { RecordJournal } from './disk/record-journal.ts';
import { DataFileError, faultOf, readJson, removeTempFiles, whatFailed, writeJson } from './disk/files.ts';
import { DiskRequestLog } from './disk/request-log.ts';
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
  StoreUnavailableError,
  UnsavedDataError,
} from './types.ts';

export { DataFileError } from './disk/files.ts';

const FORMAT_VERSION = 1;
const MAX_WARNINGS = 10;
/** Bins loaded at once at start-up (their file reads overlap; more only queue in the thread pool). */
const LOAD_BINS_AT_ONCE = 8;

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
  /** MAX_STORE_BYTES: body bytes kept across bins; the oldest captures go first. */
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
  private readonly journals: { journal: Pick<RecordJournal<{ id: string }>, 'hasDirty' | 'flush' | 'closeFile'>; holds: string }[];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  /** A flush queued behind the one running, not yet started. */
  private nextFlush: Promise<void> | null = null;
  private loading = true;
  private closed = false;
  private fault: StoreFault | null = null;
  private lastError: unknown = null;
  private readonly warnings: string[] = [];
  private readonly now: () => number;

  private constructor(private readonly opts: LowdbStoreOptions) {
    this.now = opts.now ?? Date.now;
    const schedule = () => this.schedule();
    const journal = <T extends { id: string }>(file: string, current: () => Iterable<T>, appendOnly?: keyof T & string) =>
      new RecordJournal<T>({ file: this.path(file), current, onDirty: schedule, appendOnly });
    this.requests = new DiskRequestLog({
      dataDir: opts.dataDir,
      segmentSize: opts.segmentSize,
      segmentBytes: opts.segmentBytes,
      maxRequestsPerBin: opts.maxRequestsPerBin,
      maxStoreBytes: opts.maxStoreBytes,
      cacheBytes: opts.cacheBytes,
      binExists: (id) => this.bins.map.has(id),
      durable: () => this.durable(),
      onDirty: () => this.schedule(),
      onWarning: (m, detail) => this.warn(m, detail),
    });
    this.binsJournal = journal('bins.log', () => this.bins.map.values());
    this.bins = new BinMap(this.binsJournal, (id) => this.requests.dropBin(id), () => this.durable());
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
    await s.load();
    return s;
  }

  private path(...parts: string[]) {
    return path.join(this.opts.dataDir, ...parts);
  }

  /** Refuse to start on a DATA_DIR hooklab cannot write, rather than fail on the first capture. */
  private async checkWritable() {
    const dir = this.opts.dataDir;
    try {
      await mkdir(dir, { recursive: true });
      // A file written and removed: the real test (a read-only mount lets mkdir of an
      // existing directory pass).
      const probe = this.path('.hooklab-probe.tmp');
      await writeFile(probe, 'ok');
      await rm(probe);
      await mkdir(this.path('bins'), { recursive: true });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new DataDirError(
        `DATA_DIR ${dir} is not writable: ${whatFailed(e)}. ` +
          'Point DATA_DIR at a writable directory (or fix its permissions or mount) and start again.',
      );
    }
  }

  private async load() {
    await removeTempFiles(this.opts.dataDir);
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
    const orphans = await this.requests.removeOrphanDirs();
    if (orphans.length) this.warn(`Removed the data of ${orphans.length} bin(s) that were deleted just before the last stop.`);
    this.loading = false;
    if (this.requests.hasDirty) this.schedule();
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
    const ok = await this.writeDirtyOnce();
    this.opts.onFlushed?.({ startedAt, ms: performance.now() - t0, ok });
  }

  /** Answers whether everything got written. */
  private async writeDirtyOnce(): Promise<boolean> {
    const writeClock = this.clockDirty;
    this.clockDirty = false;
    const errors: unknown[] = [];
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
    if (errors.length) {
      this.lastError = errors[0];
      const first = !this.fault;
      this.fault ??= faultOf(errors[0], this.now());
      if (first) this.opts.onFault?.(this.fault, errors[0]);
      this.schedule();
      return false;
    }
    if (this.fault) {
      // Everything that was due got written (new changes may already be waiting: fine).
      this.fault = null;
      this.opts.onFault?.(null);
    }
    return true;
  }

  // ------------------------------------------------------------------ status

  private warn(message: string, detail?: Record<string, unknown>) {
    this.warnings.push(`${new Date(this.now()).toISOString()} ${message}`);
    if (this.warnings.length > MAX_WARNINGS) this.warnings.shift();
    this.opts.onWarning?.(message, detail);
  }

  health(): StoreHealth {
    return { fault: this.fault, warnings: [...this.warnings] };
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
    if (this.hasDirty) {
      throw new UnsavedDataError(`Not saved, ${this.lastError ? whatFailed(this.lastError) : 'writes failed'}: ${this.unsavedSummary()}.`);
    }
  }
}
