// The default driver: in-memory collections persisted with lowdb, and captured requests on
// disk (disk/request-log.ts), under DATA_DIR:
//   hooklab.json                 bins, webhooks, runs, clock, forward and signature settings
//   responses.log                response settings and plan positions, an append-only journal
//                                (a plan moves with every request: one short line each)
//   deliveries.log               deliveries, an append-only journal (disk/record-journal.ts)
//   bins/<binId>/<n>.json|.body  a bin's captured requests: metadata, and bodies written once
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
import { BinMap, DeliveryMap, MapCollection, onAny, RunMap } from './collections.ts';
import { RecordJournal } from './disk/record-journal.ts';
import { DataFileError, faultOf, readJson, removeTempFiles, whatFailed, writeJson } from './disk/files.ts';
import { DiskRequestLog } from './disk/request-log.ts';
import {
  type ClockPersisted,
  type Store,
  type StoreFault,
  type StoreHealth,
  type StoredBin,
  type StoredForward,
  type StoredVerify,
  type StoredResponseControl,
  type StoredWebhook,
  StoreUnavailableError,
  UnsavedDataError,
} from './types.ts';

export { DataFileError } from './disk/files.ts';

const FORMAT_VERSION = 1;
const MAX_WARNINGS = 10;

interface MainFile {
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
  private clock: ClockPersisted | null = null;
  private readonly journal: RecordJournal<Delivery>;
  private readonly responsesJournal: RecordJournal<StoredResponseControl>;
  /** hooklab.json has changes not yet written. */
  private mainDirty = false;
  /** hooklab.json of an earlier build still holds response settings: rewrite it without. */
  private mainCarriesResponses = false;
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
    const main = () => this.changed();
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
    this.bins = new BinMap(main, (id) => this.requests.dropBin(id), () => this.durable());
    const schedule = () => this.schedule();
    this.responsesJournal = new RecordJournal({ file: this.path('responses.log'), current: () => this.responses.map.values(), onDirty: schedule });
    this.responses = new MapCollection(this.responsesJournal);
    this.webhooks = new MapCollection(onAny(main));
    this.runs = new RunMap(main, opts.maxEndedRuns ?? 500);
    this.forwards = new MapCollection(onAny(main));
    this.verifications = new MapCollection(onAny(main));
    this.journal = new RecordJournal({ file: this.path('deliveries.log'), current: () => this.deliveries.map.values(), onDirty: schedule, appendOnly: 'attempts' });
    this.deliveries = new DeliveryMap(this.journal, opts.maxFinishedDeliveries ?? 5000);
  }

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
    const main = await readJson<MainFile>(this.path('hooklab.json'), (d) => shape(d, ['bins', 'webhooks', 'runs']));
    if (main) {
      this.bins.load(main.bins);
      this.webhooks.load(main.webhooks);
      this.runs.load(main.runs);
      this.forwards.load(main.forwards ?? []);
      this.verifications.load(main.verifications ?? []);
      this.clock = main.clock;
    } else {
      // Without the bin list, bins/ cannot be told apart from leftovers: refuse, touch nothing.
      const held = (await readdir(this.path('bins'))).filter((n) => !n.startsWith('.'));
      if (held.length) {
        throw new DataFileError(this.path('hooklab.json'), `missing, but ${this.path('bins')} holds data of ${held.length} bin(s); restore hooklab.json or move bins/ aside`);
      }
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
      this.mainCarriesResponses = !!main?.responses;
    }
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
    for (const bin of this.bins.map.values()) await this.requests.loadBin(bin.id);
    const orphans = await this.requests.removeOrphanDirs();
    if (orphans.length) this.warn(`Removed the data of ${orphans.length} bin(s) that were deleted just before the last stop.`);
    this.loading = false;
    if (this.mainCarriesResponses) this.changed();
    if (this.requests.hasDirty) this.schedule();
  }

  // ------------------------------------------------------------------ writes

  /** hooklab.json changed. */
  private changed() {
    if (this.loading || this.closed) return;
    this.mainDirty = true;
    this.schedule();
  }

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
    return this.mainDirty || this.requests.hasDirty || this.journal.hasDirty || this.responsesJournal.hasDirty;
  }

  private async writeDirty() {
    const writeMain = this.mainDirty;
    this.mainDirty = false;
    const errors: unknown[] = [];
    let mainDurable = !writeMain;
    const fail = (err: unknown) => errors.push(err);
    await Promise.all([
      writeMain
        ? this.writeMain().then(
            () => void (mainDurable = true),
            (err) => {
              this.mainDirty = true;
              fail(err);
            },
          )
        : null,
      this.journal.flush().catch(fail),
      this.responsesJournal.flush().catch(fail),
      this.requests.flush().catch(fail),
    ]);
    if (mainDurable) await this.requests.removeDeletedBins().catch(fail);
    // Files stay open while writes keep coming; once idle they are closed (an idle bin holds
    // no descriptor, and nothing keeps the file system busy).
    if (!this.hasDirty) {
      this.requests.closeFiles();
      this.journal.closeFile();
      this.responsesJournal.closeFile();
    }
    if (errors.length) {
      this.lastError = errors[0];
      const first = !this.fault;
      this.fault ??= faultOf(errors[0], this.now());
      if (first) this.opts.onFault?.(this.fault, errors[0]);
      this.schedule();
    } else if (this.fault) {
      // Everything that was due got written (new changes may already be waiting: fine).
      this.fault = null;
      this.opts.onFault?.(null);
    }
  }

  private async writeMain() {
    await writeJson<MainFile>(this.path('hooklab.json'), {
      version: FORMAT_VERSION,
      bins: [...this.bins.map.values()],
      webhooks: [...this.webhooks.map.values()],
      runs: [...this.runs.map.values()],
      clock: this.clock,
      forwards: [...this.forwards.map.values()],
      verifications: [...this.verifications.map.values()],
    });
    this.mainCarriesResponses = false;
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
    this.changed();
  }

  /** What is still not on disk, in words. */
  private unsavedSummary(): string {
    const parts: string[] = [];
    const r = this.requests.unsaved();
    if (r.requests || r.bins) parts.push(`${r.requests} capture(s) (${r.bytes} body bytes) in ${r.bins} bin(s)`);
    if (this.mainDirty) parts.push('bins, webhooks, runs and the clock (hooklab.json)');
    if (this.responsesJournal.hasDirty) parts.push('response settings and plan positions (responses.log)');
    if (this.journal.hasDirty) parts.push('delivery changes (deliveries.log)');
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
    this.journal.closeFile();
    this.responsesJournal.closeFile();
    if (this.hasDirty) {
      throw new UnsavedDataError(`Not saved, ${this.lastError ? whatFailed(this.lastError) : 'writes failed'}: ${this.unsavedSummary()}.`);
    }
  }
}
