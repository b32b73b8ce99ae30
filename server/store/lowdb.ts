// The default driver: the memory store, persisted with lowdb.
//
// lowdb rewrites a whole file per write, so the data is split to keep each write small and
// independent of how much is stored:
//   DATA_DIR/hooklab.json                 bins, webhooks, runs, clock
//   DATA_DIR/responses.json               response settings and plan positions
//   DATA_DIR/deliveries.json              deliveries with their attempts
//   DATA_DIR/bins/<binId>/<segment>.json  a bin's captured requests, SEGMENT_SIZE per file
// A capture dirties only the newest segment of its bin. Evictions by the cap are lazy on
// disk: a segment is left as it is until all its requests are gone, then deleted. Each segment
// written records the bin's eviction mark (the newest id evicted so far), and on load anything
// at or below the mark is dropped again. (Deletes by a user rewrite their segment at once.) So
// one capture writes at most SEGMENT_SIZE records, however full its bin is and however many
// bins there are. Response settings and plan positions have their own small file, because a
// plan moves with every request it answers.
//
// Dirty files are written together every FLUSH_INTERVAL_MS (steno: temp file + rename, so a
// file is never half-written). A hard kill loses at most the changes of that interval plus
// the write in flight.
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import type { Delivery, Run } from '../../shared/api.ts';
import { MemoryStore, type MemoryStoreOptions, type Part } from './memory.ts';
import type { ClockPersisted, StoredBin, StoredRequest, StoredResponseControl, StoredWebhook } from './types.ts';

const FORMAT_VERSION = 1;
export const DEFAULT_SEGMENT_SIZE = 50;

interface MainFile {
  version: number;
  bins: StoredBin[];
  /** Only in files of earlier builds: now in responses.json. */
  responses?: StoredResponseControl[];
  webhooks: StoredWebhook[];
  runs: Run[];
  clock: ClockPersisted | null;
}
interface ResponsesFile {
  version: number;
  responses: StoredResponseControl[];
}
interface DeliveriesFile {
  version: number;
  deliveries: Delivery[];
}
/** On disk the body is base64 text. */
type StoredRequestFile = Omit<StoredRequest, 'body'> & { body: string };

interface SegmentFile {
  version: number;
  binId: string;
  segment: number;
  /** The newest id the cap had evicted from this bin when the file was written. */
  evictedThrough?: string;
  requests: StoredRequestFile[];
}

/** Which segment file each of a bin's live requests lives in. */
interface Segments {
  /** Sequence number of the next request appended; its segment is next / size. */
  next: number;
  of: Map<string, number>;
  /** Live requests per segment. */
  live: Map<number, number>;
  /** Newest id evicted by the cap ('' for none): written into every segment file. */
  evictedThrough: string;
  dirty: Set<number>;
  onDisk: Set<number>;
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
  /** Requests per segment file (tests use small ones). */
  segmentSize?: number;
  /** MAX_REQUESTS_PER_BIN: on load, requests evicted but still on disk are dropped. */
  maxRequestsPerBin?: number;
  onWriteError?: (file: string, err: unknown) => void;
}

function file<T>(filename: string): Low<T> {
  // Compact JSON: these files are machine-written and size is write time.
  const adapter = new DataFile<T>(filename, { parse: JSON.parse, stringify: (d) => JSON.stringify(d) });
  return new Low<T>(adapter, null as T);
}

async function readFile<T>(filename: string, check: (d: unknown) => string | null): Promise<T | null> {
  const low = file<T>(filename);
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

function shape(d: unknown, lists: string[]): string | null {
  if (!isObj(d)) return 'not a JSON object';
  for (const k of lists) if (!Array.isArray(d[k])) return `"${k}" is not a list`;
  if (d.version !== FORMAT_VERSION) return `unknown format version ${JSON.stringify(d.version)}`;
  return null;
}

export class LowdbStore extends MemoryStore {
  private readonly main: Low<MainFile>;
  private readonly responsesFile: Low<ResponsesFile>;
  private readonly deliveriesFile: Low<DeliveriesFile>;
  private readonly segments = new Map<string, Segments>();
  /** Old single-file bins being carried over: removed after their segments are written. */
  private readonly legacyFiles = new Map<string, string>();
  /** Bins whose files need tidying right after load. */
  private readonly loadedDirty = new Set<string>();
  /** Parts to write right after load (data moved from an earlier layout). */
  private readonly carryOver = new Set<Part>();
  private readonly segmentSize: number;
  private readonly dirty = new Set<Part>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private loading = true;
  private closed = false;

  private constructor(private readonly opts: LowdbStoreOptions) {
    super(opts);
    this.segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.main = file<MainFile>(this.path('hooklab.json'));
    this.responsesFile = file<ResponsesFile>(this.path('responses.json'));
    this.deliveriesFile = file<DeliveriesFile>(this.path('deliveries.json'));
  }

  static async open(opts: LowdbStoreOptions): Promise<LowdbStore> {
    const s = new LowdbStore(opts);
    await s.load();
    return s;
  }

  private path(...parts: string[]) {
    return path.join(this.opts.dataDir, ...parts);
  }

  private segmentPath(binId: string, segment: number) {
    return this.path('bins', binId, `${String(segment).padStart(8, '0')}.json`);
  }

  private segs(binId: string): Segments {
    let s = this.segments.get(binId);
    if (!s) {
      s = { next: 0, of: new Map(), live: new Map(), evictedThrough: '', dirty: new Set(), onDisk: new Set() };
      this.segments.set(binId, s);
    }
    return s;
  }

  private async load() {
    await mkdir(this.path('bins'), { recursive: true });
    const main = await readFile<MainFile>(this.path('hooklab.json'), (d) => shape(d, ['bins', 'webhooks', 'runs']));
    const responses = await readFile<ResponsesFile>(this.path('responses.json'), (d) => shape(d, ['responses']));
    const dels = await readFile<DeliveriesFile>(this.path('deliveries.json'), (d) => shape(d, ['deliveries']));
    if (main) {
      this.bins.load(main.bins);
      this.webhooks.load(main.webhooks);
      this.runs.load(main.runs);
      this.clock = main.clock;
    }
    if (responses) this.responses.load(responses.responses);
    else if (main?.responses) {
      // Written by an earlier build into hooklab.json: move it to its own file.
      this.responses.load(main.responses);
      this.carryOver.add('responses');
    }
    if (dels) this.deliveries.load(dels.deliveries);
    for (const bin of this.bins.map.values()) await this.loadBin(bin.id);
    this.loading = false;
    for (const binId of this.loadedDirty) this.changed(`bin:${binId}`);
    for (const part of this.carryOver) this.changed(part);
  }

  private async loadBin(binId: string) {
    const segs = this.segs(binId);
    const names = await readdir(this.path('bins', binId)).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [] as string[];
      throw new DataFileError(this.path('bins', binId), e.code ?? e.message);
    });
    const records: StoredRequest[] = [];
    let last = -1;
    for (const name of names) {
      const m = /^(\d+)\.json$/.exec(name);
      if (!m) continue; // temp files of an interrupted write, anything else
      const segment = Number(m[1]);
      const data = await readFile<SegmentFile>(this.path('bins', binId, name), (d) => shape(d, ['requests']));
      if (!data) continue;
      segs.onDisk.add(segment);
      if (data.evictedThrough && data.evictedThrough > segs.evictedThrough) segs.evictedThrough = data.evictedThrough;
      for (const r of data.requests) {
        segs.of.set(r.id, segment);
        records.push({ ...r, body: Buffer.from(r.body, 'base64') });
      }
      last = Math.max(last, segment);
    }
    // Evicted before the stop but still on disk (evictions are lazy): drop them again, by
    // the eviction mark, then (should the cap have been lowered) by the cap.
    records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let cut = 0;
    while (cut < records.length && records[cut].id <= segs.evictedThrough) cut++;
    const cap = this.opts.maxRequestsPerBin;
    if (cap !== undefined) cut = Math.max(cut, records.length - cap);
    for (const r of records.splice(0, cut)) segs.of.delete(r.id);
    // New captures start a fresh segment after the newest one on disk.
    segs.next = (last + 1) * this.segmentSize;
    // Earlier builds kept a bin in one file, bins/<binId>.json: carry it over into segments;
    // the old file is removed only once they are written.
    const legacyPath = this.path('bins', `${binId}.json`);
    const legacy = await readFile<SegmentFile>(legacyPath, (d) => shape(d, ['requests']));
    if (legacy) {
      for (const r of legacy.requests) {
        if (segs.of.has(r.id)) continue;
        const segment = Math.floor(segs.next++ / this.segmentSize);
        segs.of.set(r.id, segment);
        segs.dirty.add(segment);
        records.push({ ...r, body: Buffer.from(r.body, 'base64') });
      }
      this.legacyFiles.set(binId, legacyPath);
    }
    for (const s of segs.of.values()) segs.live.set(s, (segs.live.get(s) ?? 0) + 1);
    // Segments left with nothing live are removed at the first flush.
    for (const s of segs.onDisk) if (!segs.live.has(s)) segs.dirty.add(s);
    if (segs.dirty.size > 0) this.loadedDirty.add(binId);
    this.requests.load(binId, records);
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

  protected override requestsChanged(binId: string, added: StoredRequest | null, removed: readonly string[], why: 'evicted' | 'deleted') {
    const segs = this.segs(binId);
    if (added) {
      const segment = Math.floor(segs.next++ / this.segmentSize);
      segs.of.set(added.id, segment);
      segs.live.set(segment, (segs.live.get(segment) ?? 0) + 1);
      segs.dirty.add(segment);
    }
    for (const id of removed) {
      if (why === 'evicted' && id > segs.evictedThrough) segs.evictedThrough = id;
      const segment = segs.of.get(id);
      if (segment === undefined) continue;
      segs.of.delete(id);
      const left = (segs.live.get(segment) ?? 1) - 1;
      if (left > 0) segs.live.set(segment, left);
      else segs.live.delete(segment);
      // A deleted request must not come back after a restart: rewrite now. An evicted one is
      // cut again on load, so its segment waits until it is empty.
      if (why === 'deleted' || left === 0) segs.dirty.add(segment);
    }
    super.requestsChanged(binId, added, removed, why);
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
        filename = this.path('hooklab.json');
        this.main.data = {
          version: FORMAT_VERSION,
          bins: [...this.bins.map.values()],
          webhooks: [...this.webhooks.map.values()],
          runs: [...this.runs.map.values()],
          clock: this.clock,
        };
        await this.main.write();
      } else if (part === 'responses') {
        filename = this.path('responses.json');
        this.responsesFile.data = { version: FORMAT_VERSION, responses: [...this.responses.map.values()] };
        await this.responsesFile.write();
        // hooklab.json of an earlier build still holds them: rewrite it without.
        if (this.carryOver.delete('responses')) this.changed('main');
      } else if (part === 'deliveries') {
        filename = this.path('deliveries.json');
        this.deliveriesFile.data = { version: FORMAT_VERSION, deliveries: [...this.deliveries.map.values()] };
        await this.deliveriesFile.write();
      } else {
        const binId = part.slice(4);
        filename = this.path('bins', binId);
        if (!this.bins.map.has(binId)) {
          // Deleted bin. Flushes never overlap, so no write to its files is in flight.
          this.segments.delete(binId);
          await rm(filename, { recursive: true, force: true });
          await rm(this.path('bins', `${binId}.json`), { force: true }); // an earlier build's layout
          return;
        }
        await this.writeSegments(binId);
        const legacy = this.legacyFiles.get(binId);
        if (legacy) {
          await rm(legacy, { force: true });
          this.legacyFiles.delete(binId);
        }
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

  /** Rewrite a bin's dirty segments from memory; delete the ones left empty. */
  private async writeSegments(binId: string) {
    const segs = this.segs(binId);
    if (segs.dirty.size === 0) return;
    const dirty = [...segs.dirty];
    segs.dirty.clear();
    const buckets = new Map<number, StoredRequest[]>(dirty.map((s) => [s, []]));
    for (const r of this.requests.logs.get(binId)?.list ?? []) buckets.get(segs.of.get(r.id)!)?.push(r);
    try {
      await mkdir(this.path('bins', binId), { recursive: true });
      await Promise.all(
        [...buckets].map(async ([segment, requests]) => {
          const filename = this.segmentPath(binId, segment);
          if (requests.length === 0) {
            if (segs.onDisk.delete(segment)) await rm(filename, { force: true });
            return;
          }
          const low = file<SegmentFile>(filename);
          low.data = {
            version: FORMAT_VERSION,
            binId,
            segment,
            evictedThrough: segs.evictedThrough,
            requests: requests.map((r) => ({ ...r, body: r.body.toString('base64') })),
          };
          await low.write();
          segs.onDisk.add(segment);
        }),
      );
    } catch (err) {
      for (const s of dirty) segs.dirty.add(s); // retried with the whole part
      throw err;
    }
  }

  override async close() {
    // A write can mark another part dirty (a carry-over); a failing one stays dirty. A few
    // rounds settle the first without spinning on the second.
    for (let round = 0; round < 3 && (round === 0 || this.dirty.size > 0); round++) await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
