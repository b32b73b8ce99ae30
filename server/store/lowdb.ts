// The default driver: the memory store, persisted with lowdb.
//
// lowdb rewrites a whole file per write, so the data is split to keep each write small and
// independent of how much else is stored:
//   DATA_DIR/hooklab.json       bins, response settings, webhooks, runs, clock
//   DATA_DIR/deliveries.json    deliveries with their attempts
//   DATA_DIR/bins/<binId>.json  one bin's captured requests (bounded by MAX_REQUESTS_PER_BIN)
// Changes mark their file dirty; dirty files are written together every FLUSH_INTERVAL_MS
// (steno: temp file + rename, so a file is never half-written). A hard kill loses at most
// the changes of that interval plus the write in flight.
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import type { Delivery, Run } from '../../shared/api.ts';
import { MemoryStore, type MemoryStoreOptions, type Part } from './memory.ts';
import type { ClockPersisted, StoredBin, StoredRequest, StoredResponseControl, StoredWebhook } from './types.ts';

const FORMAT_VERSION = 1;

interface MainFile {
  version: number;
  bins: StoredBin[];
  responses: StoredResponseControl[];
  webhooks: StoredWebhook[];
  runs: Run[];
  clock: ClockPersisted | null;
}
interface DeliveriesFile {
  version: number;
  deliveries: Delivery[];
}
interface BinFile {
  version: number;
  binId: string;
  requests: StoredRequest[];
}

/** A data file that cannot be read. Start-up stops; the file is left as it is. */
export class DataFileError extends Error {
  constructor(readonly file: string, reason: string) {
    super(
      `Cannot read data file ${file}: ${reason}. hooklab has not changed it. ` +
        `Move it aside (or fix it) and start again; see README "Storage".`,
    );
  }
}

export interface LowdbStoreOptions extends MemoryStoreOptions {
  dataDir: string;
  flushIntervalMs: number;
  onWriteError?: (file: string, err: unknown) => void;
}

function file<T>(filename: string): Low<T> {
  // Compact JSON: these files are machine-written and size is write time.
  const adapter = new DataFile<T>(filename, { parse: JSON.parse, stringify: (d) => JSON.stringify(d) });
  return new Low<T>(adapter, null as T);
}

async function readFile<T>(low: Low<T>, filename: string, check: (d: unknown) => string | null): Promise<T | null> {
  try {
    await low.read();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DataFileError(filename, e instanceof SyntaxError ? `not valid JSON (${e.message})` : e.code ?? e.message);
  }
  if (low.data === null) return null;
  const problem = check(low.data);
  if (problem) throw new DataFileError(filename, problem);
  return low.data;
}

const isObj = (d: unknown): d is Record<string, unknown> => typeof d === 'object' && d !== null && !Array.isArray(d);

function checkVersion(d: Record<string, unknown>): string | null {
  if (d.version !== FORMAT_VERSION) return `unknown format version ${JSON.stringify(d.version)}`;
  return null;
}

export class LowdbStore extends MemoryStore {
  private readonly main: Low<MainFile>;
  private readonly deliveriesFile: Low<DeliveriesFile>;
  private readonly binFiles = new Map<string, Low<BinFile>>();
  private readonly dirty = new Set<Part>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private loading = true;
  private closed = false;

  private constructor(private readonly opts: LowdbStoreOptions) {
    super(opts);
    this.main = file<MainFile>(path.join(opts.dataDir, 'hooklab.json'));
    this.deliveriesFile = file<DeliveriesFile>(path.join(opts.dataDir, 'deliveries.json'));
  }

  static async open(opts: LowdbStoreOptions): Promise<LowdbStore> {
    const s = new LowdbStore(opts);
    await s.load();
    return s;
  }

  private binPath(binId: string) {
    return path.join(this.opts.dataDir, 'bins', `${binId}.json`);
  }

  private async load() {
    await mkdir(path.join(this.opts.dataDir, 'bins'), { recursive: true });
    const mainPath = path.join(this.opts.dataDir, 'hooklab.json');
    const main = await readFile(this.main, mainPath, (d) => {
      if (!isObj(d)) return 'not a JSON object';
      for (const k of ['bins', 'responses', 'webhooks', 'runs'] as const) {
        if (!Array.isArray(d[k])) return `"${k}" is not a list`;
      }
      return checkVersion(d);
    });
    const delPath = path.join(this.opts.dataDir, 'deliveries.json');
    const dels = await readFile(this.deliveriesFile, delPath, (d) =>
      !isObj(d) ? 'not a JSON object' : !Array.isArray(d.deliveries) ? '"deliveries" is not a list' : checkVersion(d),
    );
    if (main) {
      this.bins.load(main.bins);
      this.responses.load(main.responses);
      this.webhooks.load(main.webhooks);
      this.runs.load(main.runs);
      this.clock = main.clock;
    }
    if (dels) this.deliveries.load(dels.deliveries);
    const present = new Set(await readdir(path.join(this.opts.dataDir, 'bins')));
    for (const bin of this.bins.map.values()) {
      const low = file<BinFile>(this.binPath(bin.id));
      this.binFiles.set(bin.id, low);
      if (!present.has(`${bin.id}.json`)) continue;
      const data = await readFile(low, this.binPath(bin.id), (d) =>
        !isObj(d) ? 'not a JSON object' : !Array.isArray(d.requests) ? '"requests" is not a list' : checkVersion(d),
      );
      if (data) this.requests.load(bin.id, data.requests);
    }
    this.loading = false;
  }

  protected override changed(part: Part) {
    if (this.loading || this.closed) return;
    this.dirty.add(part);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, this.opts.flushIntervalMs);
    }
  }

  /** Write every dirty file. Flushes run one after another, never overlapping. */
  override flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeDirty());
    return this.flushing;
  }

  private async writeDirty() {
    if (this.dirty.size === 0) return;
    const parts = [...this.dirty];
    this.dirty.clear();
    await Promise.all(parts.map((p) => this.writePart(p)));
  }

  private async writePart(part: Part) {
    let filename = '';
    try {
      if (part === 'main') {
        filename = path.join(this.opts.dataDir, 'hooklab.json');
        this.main.data = {
          version: FORMAT_VERSION,
          bins: [...this.bins.map.values()],
          responses: [...this.responses.map.values()],
          webhooks: [...this.webhooks.map.values()],
          runs: [...this.runs.map.values()],
          clock: this.clock,
        };
        await this.main.write();
      } else if (part === 'deliveries') {
        filename = path.join(this.opts.dataDir, 'deliveries.json');
        this.deliveriesFile.data = { version: FORMAT_VERSION, deliveries: [...this.deliveries.map.values()] };
        await this.deliveriesFile.write();
      } else {
        const binId = part.slice(4);
        filename = this.binPath(binId);
        if (!this.bins.map.has(binId)) {
          // Deleted bin. Flushes never overlap, so no write to this file is in flight.
          this.binFiles.delete(binId);
          await rm(filename, { force: true });
          return;
        }
        let low = this.binFiles.get(binId);
        if (!low) {
          low = file<BinFile>(filename);
          this.binFiles.set(binId, low);
        }
        low.data = { version: FORMAT_VERSION, binId, requests: this.requests.logs.get(binId)?.list ?? [] };
        await low.write();
      }
    } catch (err) {
      // Keep it dirty so the next flush tries again; nothing in memory is lost.
      this.dirty.add(part);
      this.opts.onWriteError?.(filename, err);
      if (!this.timer && !this.closed) {
        this.timer = setTimeout(() => {
          this.timer = null;
          void this.flush();
        }, Math.max(1000, this.opts.flushIntervalMs));
      }
    }
  }

  override async close() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
    this.closed = true;
  }
}
