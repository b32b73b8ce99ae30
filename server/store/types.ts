// The storage seam. Every driver (memory, lowdb, redis) implements Store and must pass
// test/store/contract.ts. Records are treated as immutable: callers `put` a new object
// instead of mutating one they got back.
import type { IdempotencyKeyT, VerificationT, VerifySettingsT } from '../../shared/schema/verify.ts';
import type {
  AnswerOutcome,
  ForwardRecord,
  ReplayJob,
  RequestItem,
  Delivery,
  DeliveryQuery,
  ResponseConfig,
  Run,
  Webhook,
} from '../../shared/api.ts';

/** The failure streak kept on a webhook (disableAfterDays, disableAfterDeliveries). */
export type FailureStreakT = NonNullable<Webhook['failing']>;

export interface StoredBin {
  id: string;
  name: string;
  createdAt: string;
  /** Where list rows take their label from (json:<path>, header:<name>); absent: the built-in rules. */
  labelFrom?: string[];
  /** Activity that leaves no capture of its own time (its requests cleared, an import), for idle expiry (BIN_IDLE_DAYS). */
  activeAt?: string;
  /** When its requests were last cleared (a waiting forward whose capture went then was no loss: see Forwarder). */
  clearedAt?: string;
}

/**
 * A captured request's metadata: everything but the body. The lowdb driver keeps this on disk
 * (segment files) and only the list row (`RequestItem`) in memory; bodies live in body files.
 */
export interface StoredRequest {
  /**
   * Sortable in arrival order (server/ids.ts): a bin lists by id. On append it may be left ''
   * for the store to assign (see RequestLog.append).
   */
  id: string;
  binId: string;
  /**
   * Its arrival number in the bin (1, 2, …), given by the store on append: a client that knows
   * the last one it saw can tell how many it missed, even once they are evicted. Absent on
   * captures stored by builds before it existed. (A bin emptied by hand and then restarted
   * numbers from 1 again; the lowdb driver keeps the mark in the bin's segment files.)
   */
  seq?: number;
  method: string;
  path: string;
  queryString: string;
  /** Flat [name, value, name, value, ...] exactly as Node's rawHeaders: one array, not one per header. */
  headers: string[];
  ip: string;
  receivedAt: string;
  size: number;
  truncated: boolean;
  /** Body bytes kept (size, or less when truncated). */
  storedBytes: number;
  contentType: string | null;
  answer: AnswerOutcome;
  /** Chunked-encoding trailers, flat as headers (only when the request had some). */
  trailers?: string[];
  /** Where it was sent on (forward targets, proxy mode, replays), newest last. */
  forwards?: ForwardRecord[];
  /** Its signature checked under the bin's verify settings (issue 14). */
  verification?: VerificationT;
  /** The sender's idempotency key, when it has one. */
  idempotency?: IdempotencyKeyT | null;
  /** SHA-256 of the stored body, hex: the same body under another key is a retry that changed its key. */
  bodySha256?: string;
}

/** What is learnt about a capture after it is stored. */
export type Annotations = Pick<StoredRequest, 'forwards' | 'verification' | 'idempotency' | 'bodySha256' | 'answer'>;

/** A bin's signature settings (issue 14): its id is the bin's. */
export interface StoredVerify {
  id: string;
  settings: VerifySettingsT;
  /** New on every write (absent in older stores): part of the settings' ETag. */
  rev?: string;
}

/** A bin's forward targets (issue 13): its id is the bin's. */
export interface StoredForward {
  id: string;
  targets: { url: string }[];
  answerWith: 'bin' | 'target';
}

/**
 * A bulk replay (POST /api/bins/:id/replay) as stored, so GET /api/replays/:id answers on every
 * instance and after a restart. The instance running it writes it when it starts, then its
 * progress now and then, and again when it ends (server/forward/replay-jobs.ts). The two
 * fields beyond ReplayJob are not shown in the API.
 */
export interface StoredReplay extends ReplayJob {
  /** The instance running it (its INSTANCE_URL; with lowdb there is one). */
  instance: string;
  /**
   * When that instance last wrote it (wall clock): written every few seconds while it runs,
   * so a 'running' one not written for long lost its instance (read as failed).
   */
  updatedAt: string;
}

/** What the receiver hands the store: the metadata and the body bytes (storedBytes long). */
export interface CapturedRequest extends StoredRequest {
  body: Buffer;
}

/** Where a bin's plan stands; `rng` is the generator state for probability steps. */
export interface PlanState {
  step: number;
  usedInStep: number;
  consumed: number;
  exhausted: boolean;
  rng: number;
}

export interface StoredResponseControl {
  /** The bin's id. */
  id: string;
  config: ResponseConfig;
  state: PlanState;
}

export interface StoredWebhook extends Omit<Webhook, 'hasSecret' | 'hasPreviousSecret' | 'behaviors' | 'disabledBy' | 'failing'> {
  secret: string | null;
  /** During a rotation: the old secret, which signs too (absent: none). */
  previousSecret?: string | null;
  // Absent on webhooks saved before they existed: read as {} / null.
  behaviors?: Webhook['behaviors'];
  disabledBy?: Webhook['disabledBy'];
  failing?: Webhook['failing'];
}

export interface ClockPersisted {
  /** Virtual time at the anchor. */
  virtualMs: number;
  /** Wall time at the anchor. */
  realMs: number;
  scale: number;
  paused: boolean;
}

export interface Collection<T extends { id: string }> {
  get(id: string): Promise<T | undefined>;
  /** All records, oldest first. */
  list(): Promise<T[]>;
  put(record: T): Promise<void>;
  delete(id: string): Promise<boolean>;
}

/** What `create` did: made it, or not because the id is taken or the collection is at its cap. */
export type CreateResult = 'created' | 'exists' | 'full';

/**
 * A collection with a cap on its size (bins: MAX_BINS, webhooks: MAX_WEBHOOKS), checked and
 * inserted in one step: on Redis a count then a put let concurrent requests past the cap.
 */
export interface Creatable<T extends { id: string }> extends Collection<T> {
  /** Insert `record` unless its id exists or `max` records do. */
  create(record: T, max: number): Promise<CreateResult>;
}

export interface RequestPageQuery {
  limit: number;
  /** Only ids older than this. */
  before?: string;
  /** Only ids newer than this. */
  after?: string;
  /** The `limit` oldest that match, oldest first (paging forward from `after`). Default: the newest, newest first. */
  oldestFirst?: boolean;
}

/** Requests removed from one bin to make room (the per-bin cap or the store's byte budget). */
export interface Eviction {
  binId: string;
  ids: string[];
}

/**
 * What an answer decided without a step in the shared store assumed (Control.quickDecision):
 * the bin's response settings are still of this version ('' none). The redis driver checks it
 * in the append's own atomic step and, when it no longer holds, stores nothing and rejects with
 * SettingsChangedError (the receiver then decides again, and appends without a guard). The
 * drivers of one process are never given one (their decisions are made in that process).
 */
export interface AppendGuard {
  settingsVersion: string;
}

export interface RequestLog {
  /**
   * Appends, then drops the oldest beyond `cap` in the bin and, when the store holds more
   * body bytes than its budget, the oldest across all bins. Answers what was evicted (the
   * record's own bin first), or null (and stores nothing) when the bin does not exist.
   * Sets `record.seq`. A record with `id` '' gets its id from the store, set on `record.id`
   * before this resolves: the redis driver assigns it atomically with `seq`, from Redis's
   * clock, so ids follow the order appends reach Redis whichever instance sent them (the
   * memory and lowdb drivers, one process each, need the caller's id).
   */
  append(record: CapturedRequest, cap: number, guard?: AppendGuard): Promise<Eviction[] | null>;
  /** List rows, newest first. Cheap enough for live backfill: from memory (redis: one round trip). */
  items(binId: string, q: RequestPageQuery): Promise<RequestItem[]>;
  /** Full metadata (headers included), newest first. */
  page(binId: string, q: RequestPageQuery): Promise<StoredRequest[]>;
  get(binId: string, id: string): Promise<StoredRequest | undefined>;
  /** Is this request stored (cheaper than get)? */
  has(binId: string, id: string): Promise<boolean>;
  /**
   * Add what is learnt about a stored request later (forwards, replays, its signature check):
   * `fn` gets it as stored and answers the fields to change. The list row (items()) follows:
   * it is returned (for the live update), or null when the request is no longer stored.
   * `fn` may run more than once (redis: when another instance changed the request meanwhile,
   * it is applied again to the newer version): keep it free of side effects.
   */
  annotate(binId: string, id: string, fn: (r: StoredRequest) => Partial<Annotations>): Promise<RequestItem | null>;
  /** The stored body bytes; undefined when the request is not stored. */
  body(binId: string, id: string): Promise<Buffer | undefined>;
  /** Resolves once the deletion is durable (it never comes back after a crash). */
  delete(binId: string, id: string): Promise<boolean>;
  /** Likewise durable when it resolves. */
  clear(binId: string): Promise<number>;
  stats(binId: string): Promise<{ count: number; lastAt: string | null; oldestId: string | null }>;
  /** The bin's last arrival number given (0: none yet). */
  lastSeq(binId: string): Promise<number>;
  /** Body bytes held in memory until they are written (the receiver's buffer budget counts them). */
  pendingBytes(): number;
}

export interface DeliveryCollection extends Collection<Delivery> {
  /** Newest first, filtered. */
  query(q: DeliveryQuery): Promise<Delivery[]>;
}

export interface Store {
  readonly bins: Creatable<StoredBin>;
  readonly requests: RequestLog;
  readonly responses: Collection<StoredResponseControl>;
  readonly webhooks: Creatable<StoredWebhook>;
  readonly deliveries: DeliveryCollection;
  readonly runs: Collection<Run>;
  readonly forwards: Collection<StoredForward>;
  readonly verifications: Collection<StoredVerify>;
  /** Bulk replays: every running one, and the newest MAX_REPLAY_JOBS ended ones (the oldest ended go). */
  readonly replays: Collection<StoredReplay>;
  getClock(): Promise<ClockPersisted | null>;
  setClock(c: ClockPersisted): Promise<void>;
  /** Whether writes are reaching the disk, or Redis (always ok for the memory driver). */
  health(): StoreHealth;
  /**
   * Look at the storage now (/api/health calls it before health()): a fault no write has met
   * yet (an idle server's DATA_DIR unmounted, Redis away) is in health() once it resolves.
   * Never rejects. Absent: health() is always current (memory).
   */
  check?(): Promise<unknown>;
  /** Persist everything changed so far (never rejects; a failure shows in health()). */
  flush(): Promise<void>;
  /** Resolves once everything changed before the call is on disk; rejects with StoreUnavailableError while writes fail. */
  durable(): Promise<void>;
  /** How long the oldest acknowledged capture not yet on disk has waited, in ms (0: none, or the store keeps each as it is appended). */
  unwrittenForMs(): number;
  /** Flush and stop. Rejects with UnsavedDataError when something could not be written. */
  close(): Promise<void>;
}

/** redis_unavailable: the redis driver cannot reach Redis, or Redis refuses writes. */
export type StoreFaultCode = 'disk_full' | 'read_only' | 'no_permission' | 'missing_directory' | 'io_error' | 'redis_unavailable';

/** Writes are failing: captures are refused (503) until they succeed again. */
export interface StoreFault {
  code: StoreFaultCode;
  /** For people: what fails and what to do. Names no paths (health is public). */
  message: string;
  since: string;
}

export interface StoreHealth {
  fault: StoreFault | null;
  /** Things that went wrong and were handled but that the operator should know of. */
  warnings: string[];
}

/** close() could not write everything: says what was not saved. */
export class UnsavedDataError extends Error {}

/** A change was kept in memory but could not be made durable (the store is faulted): 503. */
export class StoreUnavailableError extends Error {}

/**
 * A deletion that could not be recorded on disk, and so did not happen: nothing changed (the
 * lowdb driver records a deletion before it takes effect). 503; the message says so.
 */
export class ChangeNotRecordedError extends StoreUnavailableError {}

/**
 * A stored capture could not be read back (its file missing or unreadable) while the index
 * still holds it. 503 rather than a 404 or a 500: it may come back (a directory moved back);
 * /api/health lists the failures under `warnings`.
 */
export class StoreReadError extends StoreUnavailableError {}

/** An append's guard did not hold: the bin's response settings changed (see AppendGuard). */
export class SettingsChangedError extends Error {}
