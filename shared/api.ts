// The API's types: the one source of truth for the server, the client and the tests.
// Times are RFC 3339 strings. Anything on the dispatcher side is on the virtual clock.

/** One header as sent: original case, original order, repeats kept. */
export type HeaderPair = [name: string, value: string];
/** Parsed query string: a repeated key becomes an array, in order. */
export type Query = Record<string, string | string[]>;

export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
}

// ---------------------------------------------------------------- bins

export interface Bin {
  id: string;
  name: string;
  /** Absolute receiver URL, built from PUBLIC_URL. */
  url: string;
  createdAt: string;
  requestCount: number;
  lastRequestAt: string | null;
}

export interface BinInput {
  name?: string;
}

// ------------------------------------------------------- captured requests

export type Fault = 'timeout' | 'reset';

/** What the receiver answered a captured request, and why. */
export interface AnswerOutcome {
  /** HTTP status sent, or null when a fault answered (no status line). */
  status: number | null;
  delayMs: number;
  fault: Fault | null;
  /** Which part of the bin's response settings decided the answer. */
  source: 'default' | 'step' | 'rule' | 'rate-limit';
  /** Index of the plan step or rule that answered, else null. */
  index: number | null;
  /** For a probability step: the draw and whether it hit. */
  roll: { p: number; value: number; hit: boolean } | null;
}

/** What a list row needs; the live `request` event carries exactly this. */
export interface RequestItem {
  id: string;
  binId: string;
  method: string;
  /** Path below the bin, always starting with '/'. */
  path: string;
  /** The query string exactly as sent, without the '?'. */
  queryString: string;
  ip: string;
  receivedAt: string;
  /** Full body size in bytes, even when truncated. */
  size: number;
  truncated: boolean;
  contentType: string | null;
  /** Status answered (null for a fault). Same as answer.status. */
  status: number | null;
  answer: AnswerOutcome;
}

/** A request in the list API: the item plus its headers and parsed query. */
export interface RequestSummary extends RequestItem {
  query: Query;
  headers: HeaderPair[];
}

export type BodyEncoding = 'utf8' | 'base64';

export interface RequestDetail extends RequestSummary {
  /** The stored body bytes: UTF-8 text when valid UTF-8, else base64. */
  body: string;
  bodyEncoding: BodyEncoding;
  /** Bytes stored (size when not truncated). */
  storedBytes: number;
  /** Decoded view when content-encoding is gzip/deflate/br (display only; raw stays raw). */
  decoded: { body: string; bodyEncoding: BodyEncoding; bytes: number; truncated: boolean; error: string | null } | null;
}

export interface RequestPage {
  requests: RequestSummary[];
  /** Pass as `before` to get the next (older) page; null when there is none. */
  nextBefore: string | null;
}

// ---------------------------------------------------------- response control

export interface ResponseSpec {
  status: number;
  headers: Record<string, string>;
  body: string;
  contentType: string;
  delayMs: number;
}

export interface Match {
  /** Exact method, case-insensitive. */
  method?: string;
  /** Sub-path prefix below the bin, e.g. "/hooks". */
  pathPrefix?: string;
  /** Header name (case-insensitive) whose value must equal `value`. */
  header?: { name: string; value: string };
}

/** One plan step or rule. A step answers with a response or a fault. */
export interface PlanStep {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  contentType?: string;
  delayMs?: number;
  fault?: Fault;
  /** Repeat this step for N requests (default 1). Steps only. */
  times?: number;
  /** Answer as written with this probability, else with `default`. Steps only. */
  probability?: number;
  match?: Match;
}

export type AfterPlan = 'default' | 'loop';

export interface ResponseConfig {
  default: ResponseSpec;
  /** Standing rules, checked first, never consumed. */
  rules: PlanStep[];
  /** Steps consumed one per matching request. */
  plan: PlanStep[];
  afterPlan: AfterPlan;
  /** Seed for probability steps, so a scenario replays exactly. */
  seed: number;
}

/** Input form: everything optional; missing parts take defaults. */
export interface ResponseConfigInput {
  default?: Partial<ResponseSpec>;
  rules?: PlanStep[];
  plan?: PlanStep[];
  afterPlan?: AfterPlan;
  seed?: number;
}

export interface PlanPosition {
  /** Index of the step the next matching request meets. */
  step: number;
  /** Requests already answered by that step (for `times`). */
  usedInStep: number;
  /** True once the plan ran out and `afterPlan` is "default". */
  exhausted: boolean;
  /** Requests that went through the plan since the last reset. */
  consumed: number;
}

export interface ResponseControlView {
  config: ResponseConfig;
  position: PlanPosition;
}

// ------------------------------------------------------------- dispatcher

export type EventName = 'sync_start' | 'sync_end' | 'test';
/** The article's three subscription checkboxes. */
export type Subscription = 'flow_started' | 'flow_succeeded' | 'flow_failed';
export const SUBSCRIPTIONS: readonly Subscription[] = ['flow_started', 'flow_succeeded', 'flow_failed'];
export type RunOutcome = 'SUCCESSFUL' | 'FAILED';

export interface ScheduleSettings {
  /** Delay before the first retry. */
  firstDelayMs: number;
  /** Each delay is this many times the previous one. */
  factor: number;
  /** ±fraction of random spread on each delay (0.2 = ±20%). */
  jitter: number;
  /** No attempt later than this after the event; the last one lands on it. */
  deadlineMs: number;
}

export type SuccessPolicy = '200' | '2xx';

export interface Webhook {
  id: string;
  name: string;
  url: string;
  enabled: boolean;
  events: Subscription[];
  /** The secret itself is never sent back after it is saved. */
  hasSecret: boolean;
  successPolicy: SuccessPolicy;
  /** Per-webhook overrides of the global schedule. */
  schedule: Partial<ScheduleSettings>;
  /** Per-attempt timeout override, ms. */
  timeoutMs: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookInput {
  name?: string;
  url?: string;
  enabled?: boolean;
  events?: Subscription[];
  /** `whsec_` + base64 (Standard Webhooks); null or "" removes it. */
  secret?: string | null;
  successPolicy?: SuccessPolicy;
  schedule?: Partial<ScheduleSettings>;
  timeoutMs?: number | null;
}

/** The body Portable sends, field for field (keys in the article's order). */
export interface PortablePayload {
  created: string;
  destination_id: number;
  destination_type: string;
  details?: string;
  event: EventName;
  flow_id: number;
  run_attempt_id: number;
  source_id: number;
  source_type: string;
  status?: RunOutcome;
}

export type AttemptError = 'timeout' | 'refused' | 'reset' | 'redirect' | 'dns' | 'blocked' | 'error';

export interface Attempt {
  n: number;
  plannedAt: string;
  sentAt: string;
  status: number | null;
  error: AttemptError | null;
  /** Human detail for an error (never holds secrets). */
  errorDetail: string | null;
  ok: boolean;
  /** Real (wall) time the exchange took. */
  durationMs: number;
  /** Headers the dispatcher sent on this attempt (signature included: it is not a secret). */
  requestHeaders: HeaderPair[];
  responseHeaders: HeaderPair[];
  /** First bytes of the response body, as UTF-8 text. */
  responseBody: string;
  responseBodyTruncated: boolean;
  manual: boolean;
  /** Set when the receiver was one of our bins: the captured request's id. */
  capturedRequestId: string | null;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed' | 'cancelled';

export interface Delivery {
  id: string;
  webhookId: string;
  webhookName: string;
  url: string;
  runId: string | null;
  event: EventName;
  payload: PortablePayload;
  /** The `webhook-id` header: the same on every attempt (idempotency key). */
  webhookMessageId: string;
  state: DeliveryState;
  createdAt: string;
  nextAttemptAt: string | null;
  /** Every attempt time the schedule planned at creation. */
  plannedAt: string[];
  schedule: ScheduleSettings;
  seed: number;
  attempts: Attempt[];
  /** Why it stopped: delivered, deadline, webhook_disabled, webhook_deleted. */
  endReason: string | null;
  /** Set when the receiver URL is one of our bins. */
  binId: string | null;
}

export interface DeliveryQuery {
  webhookId?: string;
  state?: DeliveryState;
  runId?: string;
  /** Only deliveries older than this id (ids sort by creation): the next page. */
  before?: string;
  limit?: number;
}

export interface RunInput {
  flow_id?: number;
  source_type?: string;
  destination_type?: string;
  outcome?: RunOutcome;
  durationMs?: number;
  details?: string;
}

export interface Run {
  id: string;
  flow_id: number;
  run_attempt_id: number;
  source_id: number;
  destination_id: number;
  source_type: string;
  destination_type: string;
  outcome: RunOutcome;
  details: string;
  startedAt: string;
  endsAt: string;
  ended: boolean;
}

export interface TestResult {
  delivery: Delivery;
  status: number | null;
  error: AttemptError | null;
  ok: boolean;
  durationMs: number;
}

export interface ClockState {
  now: string;
  scale: number;
  paused: boolean;
  /** The next thing due on the dispatcher (attempt or run end), or null. */
  nextDueAt: string | null;
}

export interface ClockInput {
  scale?: number;
  paused?: boolean;
}

export interface AdvanceInput {
  ms?: number;
  to?: 'next';
}

export interface SchedulePreview {
  settings: ScheduleSettings;
  seed: number;
  attempts: { n: number; offsetMs: number; delayMs: number }[];
}

// --------------------------------------------------------------- live events

export interface SubscribeAck {
  ok: boolean;
  /** Requests replayed because they came after `lastId`. */
  backfilled?: number;
  error?: string;
}

export interface ServerToClientEvents {
  /** Light on purpose (no headers): a busy bin sends thousands; fetch the detail for more. */
  request: (r: RequestItem) => void;
  'requests:deleted': (e: { binId: string; ids: string[] | 'all' }) => void;
  'bin:updated': (b: Bin) => void;
  'bin:deleted': (e: { id: string }) => void;
  'response:position': (e: { binId: string; position: PlanPosition }) => void;
  delivery: (d: Delivery) => void;
  run: (r: Run) => void;
  clock: (c: ClockState) => void;
}

export interface ClientToServerEvents {
  subscribe: (a: { binId: string; lastId?: string | null }, ack?: (r: SubscribeAck) => void) => void;
  unsubscribe: (a: { binId: string }) => void;
  'dispatcher:subscribe': (ack?: (r: SubscribeAck) => void) => void;
  'dispatcher:unsubscribe': () => void;
}

/** Receiver URLs live under this prefix: PUBLIC_URL + RECEIVER_PREFIX + binId. */
export const RECEIVER_PREFIX = '/h/';
