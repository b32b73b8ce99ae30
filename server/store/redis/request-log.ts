// Captured requests in Redis (key layout: redis-store.ts). Node holds nothing per capture:
// list rows, metadata and bodies are read from Redis when asked for, so memory does not grow
// with what is stored. Appends, deletions, clears and annotations are each atomic in Redis
// (request-scripts.ts), whichever hooklab instance makes them.
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { ReplyError } from 'ioredis';
import { customAlphabet, nanoid } from 'nanoid';
import type { AnswerOutcome, RequestItem } from '../../../shared/api.ts';
import { headBytes } from '../head-bytes.ts';
import { evictionsOf, type IndexEntry, toItem } from '../request-index.ts';
import { type AppendGuard, type Annotations, type CapturedRequest, type Eviction, type RequestLog, type RequestPageQuery, SettingsChangedError, type StoredRequest } from '../types.ts';
import type { Client, RedisConnection } from './connection.ts';
import { AppendInDoubtError, type DoubtfulAppend, InDoubtAppends } from './in-doubt.ts';
import { APPEND } from './request-scripts.ts';

const APPEND_SHA = createHash('sha1').update(APPEND).digest('hex');

/**
 * Appends sent in one run of the append script at most (a turn's appends go in as few as
 * that allows): two commands per batch (the bodies' MSET, the script), rather than two per
 * capture. Also the most that one MULTI … EXEC holds (see RedisConnection.transaction).
 */
const BATCH_MAX = 32;

/** Bodies of a cleared bin deleted per script run (each run stays well under a millisecond). */
const PURGE_CHUNK = 200;
/** Compare-and-set rounds before annotate gives up (each loser re-reads; contention is rare). */
const ANNOTATE_ROUNDS = 100;

/** Captures removed per script run at start-up, and bins looked at per run (see applyCaps). */
const TRIM_CHUNK = 500;
const TRIM_BINS_PER_RUN = 200;

/** What applyCaps removed: by the per-bin cap, then by the byte budget. */
export interface CapsApplied {
  capped: number;
  cappedBytes: number;
  budget: number;
  budgetBytes: number;
}

const randomTail = customAlphabet('0123456789abcdefghijklmnopqrstuvwxyz', 6);

/**
 * Bin ids become part of key names: one with ':' or whitespace could name another bin's keys.
 * (API bin ids are [A-Za-z0-9_-]; this is the driver's own guard.)
 */
export function isSafeBinId(binId: string): boolean {
  return binId.length > 0 && !/[:\s]/.test(binId);
}

/** '{"a":1,"b":2}' -> ',"a":1,"b":2}', '{}' -> '}': what follows id and seq in the stored JSON. */
function after(obj: object): string {
  const s = JSON.stringify(obj);
  return s === '{}' ? '}' : `,${s.slice(1)}`;
}

/**
 * The metadata's JSON after id and seq: the record without its body, id and seq (as after()
 * gives it). Stringified with those three undefined for the moment (JSON leaves them out), not
 * from an object rest copy, which took as long again as the stringify (once per capture).
 */
function metaAfterIdAndSeq(record: CapturedRequest): string {
  const r = record as unknown as Record<string, unknown>;
  const { body, id, seq } = record;
  const hasSeq = 'seq' in record; // (adding it would change the record's shape)
  r.body = undefined;
  r.id = undefined;
  if (hasSeq) r.seq = undefined;
  try {
    return after(record);
  } finally {
    r.body = body;
    r.id = id;
    if (hasSeq) r.seq = seq;
  }
}

/** The list row's JSON after id and seq (as after() gives it): what the append script stores behind them. */
function rowAfterIdAndSeq(record: CapturedRequest): string {
  if (record.seq !== undefined) {
    const { id: _i, seq: _s, ...row } = toItem(record);
    return after(row);
  }
  // toItem puts the id first (and, without a seq, no seq): cut '{"id":…' off its JSON.
  return JSON.stringify(toItem(record)).slice('{"id":'.length + JSON.stringify(record.id).length);
}

const limitOf = (q: RequestPageQuery) => (Number.isFinite(q.limit) ? Math.floor(q.limit) : -1);

export interface RedisRequestLogOptions {
  prefix: string;
  /** MAX_STORE_BYTES (Infinity: none). */
  maxStoreBytes: number;
  /** Entries kept in the capture feed (0: no feed; see APPEND in request-scripts.ts). */
  feedMaxLen?: number;
  /** This instance's tag in the capture feed (its own captures are known to it already). */
  origin?: string;
  /** An append found its bin gone (deleted, by any instance). */
  onBinMissing?: (binId: string) => void;
  /** For the log: appends in doubt found stored after all, or given up on (see in-doubt.ts). */
  onWarning?: (message: string, detail?: Record<string, unknown>) => void;
}

/** Feed entries as XRANGE answers them: [entry id, [field, value, …]]. */
export type FeedEntry = [string, string[]];

/**
 * Where an instance that follows the capture feed through its appends (see "Following the
 * feed" in request-scripts.ts) hands what each append run answered: CaptureFeed.
 */
export interface FeedSink {
  /** Its position in the feed: every entry up to it has been handed on. */
  position(): string;
  /** Every feed entry in (start, last of entries], in order; `more`: the run's own entries
   * were left out (the scan stopped short), so the rest must be read. */
  offer(start: string, entries: FeedEntry[], more: boolean): void;
}

/** An append waiting for its batch to run: its body, its fields of the script's arguments. */
interface PendingAppend {
  staged: string;
  body: Buffer;
  fields: (string | number)[];
  resolve: (result: unknown) => void;
  reject: (err: unknown) => void;
}

const IN_DOUBT = 'Redis did not confirm the capture in time (see /api/health): it may yet be stored; retry shortly.';

/**
 * A batch's transaction was sent but not answered (a timeout, a connection lost): Redis may
 * still run it. Each of its appends rejects with AppendInDoubtError (see append()).
 */
class Unanswered {
  constructor(
    readonly err: unknown,
    /** performance.now() when it was handed to the socket, and that socket. */
    readonly sentAt: number,
    readonly stream: unknown,
  ) {}
}

export class RedisRequestLog implements RequestLog {
  private inFlightBytes = 0;
  /** The batch appends asked for now join, until it is sent (see send()). */
  private batch: PendingAppend[] | null = null;
  /** Purges of cleared bins under way (close waits for them). */
  private readonly purges = new Set<Promise<void>>();
  private sink: FeedSink | null = null;
  /** Appends sent but never answered, looked for once Redis answers again (see in-doubt.ts). */
  private readonly inDoubt: InDoubtAppends;

  constructor(
    private readonly db: RedisConnection,
    private readonly o: RedisRequestLogOptions,
  ) {
    this.inDoubt = new InDoubtAppends({
      find: (args) => db.run((c) => c.hlFindAppended(o.prefix, ...args)),
      correct: (binId, id, answer) => this.annotate(binId, id, (r) => (sameAnswer(r.answer, answer) ? {} : { answer })),
      ready: () => db.client.status === 'ready',
      stream: () => streamOf(db.client),
      feedPosition: () => this.sink?.position() ?? '',
      warn: (m, d) => o.onWarning?.(m, d),
    });
  }

  /** Appends in doubt remembered now (see in-doubt.ts). */
  inDoubtCount(): number {
    return this.inDoubt.size;
  }

  /** Hand the capture feed's entries each append run answers to `sink` (with a feed only). */
  followFeed(sink: FeedSink): void {
    if (this.o.feedMaxLen && this.o.origin) this.sink = sink;
  }

  /** Capture feed entries after `after` (an entry id), on this connection: after every append sent before. */
  async feedAfter(key: string, after: string, count: number): Promise<FeedEntry[]> {
    return (await this.db.run((c) => c.xrange(key, `(${after}`, '+', 'COUNT', count))) as FeedEntry[];
  }

  private binKey(binId: string) {
    return `${this.o.prefix}bin:${binId}`;
  }

  /**
   * Stages the body (SET, outside any script) and runs the append script in the same MULTI:
   * it lands whole or not at all. When `record.id` is '', Redis assigns it (see types.ts);
   * either way record.id and record.seq are set when this resolves. A guard is checked in
   * the script (see AppendGuard): when it fails, nothing is stored and this rejects with
   * SettingsChangedError. When it was sent but never answered (Redis stalled past the command
   * timeout, the link broke), Redis may still store it: this rejects with AppendInDoubtError
   * (a StoreUnavailableError), whose settle() has it looked for later (see in-doubt.ts).
   */
  async append(record: CapturedRequest, cap: number, guard?: AppendGuard): Promise<Eviction[] | null> {
    if (!isSafeBinId(record.binId)) return null;
    if (/\s/.test(record.id)) throw new Error('request ids cannot contain whitespace');
    const body = record.body;
    const staged = `${this.o.prefix}tmp:${nanoid()}`;
    const fields = [staged, record.binId, record.id, randomTail(), metaAfterIdAndSeq(record), rowAfterIdAndSeq(record), body.length, cap, guard ? `=${guard.settingsVersion}` : '', headBytes(record)];
    this.inFlightBytes += body.length;
    let out: unknown;
    try {
      out = await this.send({ staged, body, fields });
    } catch (err) {
      if (!(err instanceof Unanswered)) throw err;
      // What finds it later: never the record itself (its body may be large).
      throw this.inDoubtError({ binId: record.binId, id: record.id, tail: fields[3] as string, receivedAt: record.receivedAt, sentAt: err.sentAt, stream: err.stream });
    } finally {
      this.inFlightBytes -= body.length;
    }
    if (out === null) {
      this.o.onBinMissing?.(record.binId);
      return null;
    }
    if (out === 0) throw new SettingsChangedError(`the response settings of bin ${record.binId} changed`);
    const r = out as (string | number | null)[];
    if (r[0] === null) throw this.db.classify(new Error(String(r[1])));
    record.id = String(r[0]);
    record.seq = Number(r[1]);
    if (r.length === 2) return evictionsOf(record.binId, []);
    const removed: Pick<IndexEntry, 'id' | 'binId'>[] = [];
    for (let i = 2; i < r.length; i += 2) removed.push({ binId: String(r[i]), id: String(r[i + 1]) });
    // evictionsOf reads only id and binId.
    return evictionsOf(record.binId, removed as IndexEntry[]);
  }

  /** (A method of its own: its closure holds the lookup's fields, not append()'s record.) */
  private inDoubtError(a: DoubtfulAppend): AppendInDoubtError {
    return new AppendInDoubtError(IN_DOUBT, (answer: AnswerOutcome) => this.inDoubt.track(a, answer));
  }

  /**
   * One append's result from the script, once its batch has run. The appends asked for in
   * one turn of the event loop go in batches of up to BATCH_MAX: each batch's bodies are set
   * (one MSET) and the script run once for all of them, in one MULTI.
   */
  private send(a: Omit<PendingAppend, 'resolve' | 'reject'>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // Built field by field: an object spread here cost more than the rest of send().
      const entry: PendingAppend = { staged: a.staged, body: a.body, fields: a.fields, resolve, reject };
      if (this.batch && this.batch.length < BATCH_MAX) this.batch.push(entry);
      else void this.runBatch((this.batch = [entry]));
    });
  }

  private async runBatch(batch: PendingAppend[]): Promise<void> {
    const o = this.o;
    const budget = Number.isFinite(o.maxStoreBytes) ? o.maxStoreBytes : -1;
    // Whether the last try was handed to the socket (and when, on which), and whether Redis
    // answered any of it with an error (then it did not run: a MULTI with a command refused as
    // queued is refused whole). Sent and not refused, then unanswered: Redis may still run it.
    let sentAt = -1;
    let stream: unknown = null;
    let refused = false;
    const refusal = (e: unknown) => void (e instanceof ReplyError && (refused = true));
    // Called as the transaction is sent (see RedisConnection.transaction): the batch is
    // complete then, and appends asked for later go in the next one. A plain EVALSHA (no
    // ioredis script object) in a plain MULTI.
    const queue = (c: Client) => {
      if (this.batch === batch) this.batch = null;
      sentAt = performance.now();
      stream = streamOf(c);
      refused = false;
      const args: (string | number)[] = [o.prefix, budget, o.feedMaxLen ?? 0, o.origin ?? '', this.sink?.position() ?? ''];
      for (const x of batch) for (const f of x.fields) args.push(f);
      // The bodies in one MSET (one command, not one SET each): staged keys need no expiry,
      // as the script in the same MULTI … EXEC takes or deletes every one of them (a client
      // that dies before EXEC leaves nothing: Redis drops the MULTI).
      const staging: (string | Buffer)[] = [];
      for (const x of batch) staging.push(x.staged, x.body);
      const sent = [c.mset(staging), c.evalsha(APPEND_SHA, 0, ...args)];
      for (const p of sent) p.catch(refusal);
      return sent;
    };
    try {
      let res = await this.db.transaction(queue, () => batch.length);
      if (res[1][0] && /NOSCRIPT/.test(res[1][0].message)) {
        // Redis does not know the script yet (first use, or it restarted): load it, once more.
        // The second sets the same staged keys again (the first try's MSET ran).
        sentAt = -1;
        await this.db.run((c) => c.script('LOAD', APPEND));
        res = await this.db.transaction(queue, () => batch.length);
      }
      sentAt = -1; // answered: whatever fails from here, Redis said so
      const [staging] = res[0];
      const [err, results] = res[1];
      if (staging) throw this.db.classify(staging);
      if (err) throw this.db.classify(err);
      const out = results as unknown[];
      if (out.length > batch.length) this.offerFeed(batch, out);
      for (const [i, x] of batch.entries()) x.resolve(out[i]);
    } catch (err) {
      // Not sent, the MULTI refused whole, or the script refused (each append's own failure
      // is its result): none of the batch was stored. Or sent and never answered: in doubt.
      if (this.batch === batch) this.batch = null;
      const doubt = sentAt >= 0 && !refused && !(err instanceof ReplyError) ? new Unanswered(err, sentAt, stream) : null;
      for (const x of batch) x.reject(doubt ?? err);
      // Staged bodies have no expiry: if the MSET ran, delete them (best effort; Redis may be away).
      void this.db.run((c) => c.unlink(...batch.map((x) => x.staged))).catch(() => {});
    }
  }

  /** The feed range a run answered, its own entries made here (the row as the script wrote it). */
  private offerFeed(batch: PendingAppend[], out: unknown[]): void {
    const [start, seen, ids, truncated] = out[batch.length] as [string, FeedEntry[], string[], number];
    const entries = seen;
    if (!truncated) {
      for (const [i, x] of batch.entries()) {
        const r = out[i] as (string | number | null)[];
        if (!ids[i] || !Array.isArray(r) || r[0] === null) continue;
        const evicted: string[] = [];
        for (let j = 2; j < r.length; j++) evicted.push(String(r[j]));
        const row = `{"id":${JSON.stringify(String(r[0]))},"seq":${Number(r[1])}${x.fields[5] as string}`;
        entries.push([ids[i], ['b', x.fields[1] as string, 'i', row, 'e', evicted.join(' '), 'o', this.o.origin ?? '']]);
      }
    }
    this.sink?.offer(start, entries, truncated === 1);
  }

  private async pageOf(binId: string, q: RequestPageQuery, field: 'meta' | 'items'): Promise<string[]> {
    const limit = limitOf(q);
    if (limit === 0 || !isSafeBinId(binId)) return [];
    const rows = (await this.db.run((c) =>
      c.hlPage(this.o.prefix, binId, field, q.before ?? '', q.after ?? '', limit, q.oldestFirst ? '1' : '0'),
    )) as (string | null)[];
    // A row is missing only if a capture were half there, which the scripts never leave.
    return rows.filter((r): r is string => r !== null);
  }

  async items(binId: string, q: RequestPageQuery): Promise<RequestItem[]> {
    return (await this.pageOf(binId, q, 'items')).map((s) => JSON.parse(s) as RequestItem);
  }

  async page(binId: string, q: RequestPageQuery): Promise<StoredRequest[]> {
    return (await this.pageOf(binId, q, 'meta')).map((s) => JSON.parse(s) as StoredRequest);
  }

  async get(binId: string, id: string): Promise<StoredRequest | undefined> {
    if (!isSafeBinId(binId)) return undefined;
    const s = await this.db.run((c) => c.hget(`${this.binKey(binId)}:meta`, id));
    return s === null ? undefined : (JSON.parse(s) as StoredRequest);
  }

  async has(binId: string, id: string): Promise<boolean> {
    if (!isSafeBinId(binId)) return false;
    return (await this.db.run((c) => c.hexists(`${this.binKey(binId)}:meta`, id))) === 1;
  }

  /**
   * Read, let `fn` decide, then compare-and-set against what was read: concurrent annotations
   * of one capture (from two instances) each land; the loser of a race reads again.
   */
  async annotate(binId: string, id: string, fn: (r: StoredRequest) => Partial<Annotations>): Promise<RequestItem | null> {
    if (!isSafeBinId(binId)) return null;
    const metaKey = `${this.binKey(binId)}:meta`;
    for (let round = 0; round < ANNOTATE_ROUNDS; round++) {
      const cur = await this.db.run((c) => c.hget(metaKey, id));
      if (cur === null) return null;
      const next: StoredRequest = { ...(JSON.parse(cur) as StoredRequest) };
      Object.assign(next, fn({ ...next }));
      const item = toItem(next);
      const sha = createHash('sha1').update(cur, 'utf8').digest('hex');
      const r = Number(await this.db.run((c) => c.hlAnnotate(this.o.prefix, binId, id, sha, JSON.stringify(next), JSON.stringify(item))));
      if (r === 1) return item;
      if (r === -1) return null;
      // Changed meanwhile: a short random pause spreads out instances racing on one capture.
      if (round > 2) await new Promise((res) => setTimeout(res, Math.random() * Math.min(50, round * 2)));
    }
    throw new Error(`annotate: the capture kept changing under ${ANNOTATE_ROUNDS} attempts`);
  }

  /**
   * Fetched on demand: whether it is stored, then its body, sent together (one write, no
   * MULTI): a capture cleared before the read (its body still being purged) is not answered,
   * and one cleared between the two answers as if read just before. Not a MULTI: Redis at
   * maxmemory refuses every command queued in one, reads included, and reading what is
   * stored must work then (it is how an operator picks what to delete).
   */
  async body(binId: string, id: string): Promise<Buffer | undefined> {
    if (!isSafeBinId(binId)) return undefined;
    const [stored, body] = await this.db.run((c) =>
      Promise.all([c.hexists(`${this.binKey(binId)}:meta`, id), c.getBuffer(`${this.o.prefix}body:${binId}:${id}`)]),
    );
    return stored === 1 ? (body ?? undefined) : undefined;
  }

  async delete(binId: string, id: string): Promise<boolean> {
    if (!isSafeBinId(binId)) return false;
    return Number(await this.db.run((c) => c.hlDelete(this.o.prefix, binId, id))) === 1;
  }

  async clear(binId: string): Promise<number> {
    if (!isSafeBinId(binId)) return 0;
    return (await this.emptyBin(binId, 'clear')).count;
  }

  /**
   * Clear a bin, or delete the bin record with its captures ('drop'): atomic in Redis; the
   * bodies are then deleted in chunks (awaited, so the memory is free when this resolves).
   */
  async emptyBin(binId: string, mode: 'clear' | 'drop'): Promise<{ found: boolean; count: number }> {
    const [found, count, purge] = (await this.db.run((c) => c.hlEmptyBin(this.o.prefix, binId, mode))) as [number, number, string];
    if (purge) await this.purge(purge, binId);
    return { found: found === 1, count };
  }

  /** Delete a purge list's bodies, a chunk per script run. */
  purge(n: string, binId: string): Promise<void> {
    const run = (async () => {
      while (Number(await this.db.run((c) => c.hlPurge(this.o.prefix, n, binId, PURGE_CHUNK))) === 1);
    })();
    const tracked = run.catch(() => {}); // left for the next start (resumePurges) when Redis is away
    this.purges.add(tracked);
    void tracked.finally(() => this.purges.delete(tracked));
    return run;
  }

  /** Purges left unfinished (an instance stopped mid-way): finish them. */
  async resumePurges(): Promise<void> {
    const left = await this.db.run((c) => c.smembers(`${this.o.prefix}purge`));
    for (const m of left) {
      const sp = m.indexOf(' ');
      if (sp > 0) await this.purge(m.slice(0, sp), m.slice(sp + 1));
    }
  }

  /** Purges under way, for close(); appends in doubt are no longer looked for. */
  async settled(): Promise<void> {
    this.inDoubt.close();
    await Promise.all([...this.purges]);
  }

  async stats(binId: string): Promise<{ count: number; lastAt: string | null; oldestId: string | null }> {
    if (!isSafeBinId(binId)) return { count: 0, lastAt: null, oldestId: null };
    const r = (await this.db.run((c) => c.hlStats(this.o.prefix, binId))) as [number, string?, string?];
    if (!r[0]) return { count: 0, lastAt: null, oldestId: null };
    const newest = r[2] ? (JSON.parse(r[2]) as RequestItem) : null;
    return { count: Number(r[0]), lastAt: newest?.receivedAt ?? null, oldestId: r[1] ?? null };
  }

  async lastSeq(binId: string): Promise<number> {
    if (!isSafeBinId(binId)) return 0;
    return Number((await this.db.run((c) => c.hget(this.binKey(binId), 'seq'))) ?? 0);
  }

  /**
   * Start-up: a per-bin cap (`cap`) and the byte budget lowered since the captures were stored
   * are applied now, the oldest going first as the next capture would have taken them, in short
   * atomic runs (request-scripts.ts: TRIM_BINS, TRIM_BUDGET), so instances starting at once
   * each take some of what is over and none takes too much. `onEvicted` hears each run's.
   * `chunk`: captures removed per run (a test makes it small).
   */
  async applyCaps(cap: number, onEvicted: (evictions: Eviction[]) => void, chunk = TRIM_CHUNK): Promise<CapsApplied> {
    const done: CapsApplied = { capped: 0, cappedBytes: 0, budget: 0, budgetBytes: 0 };
    const told = (r: unknown): { bytes: number; more: boolean; n: number } => {
      const a = r as (string | number)[];
      const byBin = new Map<string, string[]>();
      for (let i = 2; i < a.length; i += 2) {
        const b = String(a[i]);
        const ids = byBin.get(b);
        if (ids) ids.push(String(a[i + 1]));
        else byBin.set(b, [String(a[i + 1])]);
      }
      if (byBin.size) onEvicted([...byBin].map(([binId, ids]) => ({ binId, ids })));
      return { bytes: Number(a[0]), more: Number(a[1]) === 1, n: (a.length - 2) / 2 };
    };
    const bins = (await this.db.run((c) => c.hkeys(`${this.o.prefix}bins`))).filter(isSafeBinId);
    for (let i = 0; i < bins.length; i += TRIM_BINS_PER_RUN) {
      const some = bins.slice(i, i + TRIM_BINS_PER_RUN);
      for (;;) {
        const r = told(await this.db.run((c) => c.hlTrimBins(this.o.prefix, cap, chunk, ...some)));
        done.capped += r.n;
        done.cappedBytes += r.bytes;
        if (!r.more) break;
      }
    }
    if (Number.isFinite(this.o.maxStoreBytes)) {
      for (;;) {
        const r = told(await this.db.run((c) => c.hlTrimBudget(this.o.prefix, this.o.maxStoreBytes, chunk)));
        done.budget += r.n;
        done.budgetBytes += r.bytes;
        if (!r.more) break;
      }
    }
    return done;
  }

  /** Bodies sent to Redis whose append has not answered yet. */
  pendingBytes(): number {
    return this.inFlightBytes;
  }
}

/** The socket a client's commands go out on now (identity only: see in-doubt.ts). */
function streamOf(c: Client): unknown {
  return (c as unknown as { stream?: Socket }).stream ?? null;
}

/** Two answers alike (a correction made already is not made again). */
function sameAnswer(a: AnswerOutcome, b: AnswerOutcome): boolean {
  return a.status === b.status && a.source === b.source && a.fault === b.fault && a.delayMs === b.delayMs;
}
