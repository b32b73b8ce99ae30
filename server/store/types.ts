// The storage seam. Every driver (memory, lowdb; Redis later) implements Store and must pass
// test/store/contract.ts. Records are treated as immutable: callers `put` a new object
// instead of mutating one they got back.
import type {
  AnswerOutcome,
  Delivery,
  DeliveryQuery,
  ResponseConfig,
  Run,
  Webhook,
} from '../../shared/api.ts';

export interface StoredBin {
  id: string;
  name: string;
  createdAt: string;
}

/**
 * A captured request as stored. In memory the body is the bytes received; data files hold it
 * as base64 so the JSON stays byte-exact (encoded only when a file is written: under a burst
 * most requests are evicted before that).
 */
export interface StoredRequest {
  id: string;
  binId: string;
  method: string;
  path: string;
  queryString: string;
  /** Flat [name, value, name, value, ...] exactly as Node's rawHeaders: one array, not one per header. */
  headers: string[];
  ip: string;
  receivedAt: string;
  size: number;
  truncated: boolean;
  contentType: string | null;
  answer: AnswerOutcome;
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

export interface StoredWebhook extends Omit<Webhook, 'hasSecret'> {
  secret: string | null;
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

export interface RequestPageQuery {
  limit: number;
  /** Only ids older than this. */
  before?: string;
  /** Only ids newer than this. */
  after?: string;
}

export interface RequestLog {
  /**
   * Appends, then drops the oldest beyond `cap`. Answers the evicted ids, or null (and
   * stores nothing) when the bin does not exist, e.g. it was deleted mid-request.
   */
  append(record: StoredRequest, cap: number): Promise<string[] | null>;
  /** Newest first. */
  page(binId: string, q: RequestPageQuery): Promise<StoredRequest[]>;
  get(binId: string, id: string): Promise<StoredRequest | undefined>;
  delete(binId: string, id: string): Promise<boolean>;
  clear(binId: string): Promise<number>;
  stats(binId: string): Promise<{ count: number; lastAt: string | null }>;
}

export interface DeliveryCollection extends Collection<Delivery> {
  /** Newest first, filtered. */
  query(q: DeliveryQuery): Promise<Delivery[]>;
}

export interface Store {
  readonly bins: Collection<StoredBin>;
  readonly requests: RequestLog;
  readonly responses: Collection<StoredResponseControl>;
  readonly webhooks: Collection<StoredWebhook>;
  readonly deliveries: DeliveryCollection;
  readonly runs: Collection<Run>;
  getClock(): Promise<ClockPersisted | null>;
  setClock(c: ClockPersisted): Promise<void>;
  /** Persist everything changed so far. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
