// The API's types: the one source of truth for the server, the client and the tests. They are
// inferred from the schemas in shared/schema (zod), which also validate the API's input and
// generate its OpenAPI document, so the three cannot drift apart. The client imports types
// only (and the few constants below): zod stays out of its bundle.
// Times are RFC 3339 strings. Anything on the dispatcher side is on the virtual clock.
import type { z } from 'zod';
import type * as B from './schema/bins.ts';
import type * as C from './schema/common.ts';
import type * as D from './schema/dispatch.ts';
import type * as F from './schema/forward.ts';
import type * as R from './schema/response.ts';

/** One header as sent: original case, original order, repeats kept. */
export type HeaderPair = [name: string, value: string];
/** Parsed query string: a repeated key becomes an array, in order. */
export type Query = Record<string, string | string[]>;

export type ApiErrorBody = z.infer<typeof C.ApiError>;
export type FieldError = z.infer<typeof C.FieldError>;

// ---------------------------------------------------------------- bins

export type Bin = z.infer<typeof B.Bin>;
export type BinInput = z.input<typeof B.BinInput>;
export type Health = z.infer<typeof B.Health>;

// ------------------------------------------------------- captured requests

export type Fault = z.infer<typeof R.Fault>;
export type AnswerOutcome = z.infer<typeof B.AnswerOutcome>;
export type RequestItem = z.infer<typeof B.RequestItem>;
export type VerificationBadge = z.infer<typeof B.VerificationBadge>;
export type RequestSummary = z.infer<typeof B.RequestSummary>;
export type BodyEncoding = z.infer<typeof B.BodyEncoding>;
export type HeaderCharset = z.infer<typeof B.HeaderCharset>;
export type RequestDetail = z.infer<typeof B.RequestDetail>;
export type RequestPage = z.infer<typeof B.RequestPage>;

// ---------------------------------------------------------- response control

export type ResponseSpec = z.infer<typeof R.ResponseSpec>;
export type Match = z.infer<typeof R.Match>;
export type PlanStep = z.infer<typeof R.PlanStep>;
export type AfterPlan = ResponseConfig['afterPlan'];
export type ResponseConfig = z.infer<typeof R.ResponseConfig>;
/** Input form: everything optional; missing parts take defaults. */
export type ResponseConfigInput = z.input<ReturnType<typeof R.responseConfigInput>>;
export type PlanPosition = z.infer<typeof R.PlanPosition>;
export type ResponseControlView = z.infer<typeof R.ResponseControlView>;
export type ResponseCheckAnswer = z.infer<typeof R.ResponseCheckAnswer>;

// ------------------------------------------------------------- dispatcher

export type EventName = z.infer<typeof D.EventName>;
export type Subscription = z.infer<typeof D.Subscription>;
/** The article's three subscription checkboxes (also in shared/schema/dispatch.ts). */
export const SUBSCRIPTIONS: readonly Subscription[] = ['flow_started', 'flow_succeeded', 'flow_failed'];
export type RunOutcome = z.infer<typeof D.RunOutcome>;
export type ScheduleSettings = z.infer<typeof D.ScheduleSettings>;
export type SuccessPolicy = z.infer<typeof D.SuccessPolicy>;
export type Webhook = z.infer<typeof D.Webhook>;
export type WebhookInput = z.input<typeof D.WebhookUpdate>;
export type PortablePayload = z.infer<typeof D.PortablePayload>;
export type AttemptError = z.infer<typeof D.AttemptError>;
export type Attempt = z.infer<typeof D.Attempt>;
export type DeliveryState = z.infer<typeof D.DeliveryState>;
export type Delivery = z.infer<typeof D.Delivery>;
export type DeliveryPage = z.infer<typeof D.DeliveryList>;

export interface DeliveryQuery {
  webhookId?: string;
  state?: DeliveryState;
  runId?: string;
  /** Only deliveries older than this id (ids sort by creation): the next page. */
  before?: string;
  limit?: number;
}

export type RunInput = z.input<typeof D.RunInput>;
export type Run = z.infer<typeof D.Run>;
export type TestResult = z.infer<typeof D.TestResult>;
export type ClockState = z.infer<typeof D.ClockState>;
export type ClockInput = z.input<typeof D.ClockInput>;
export type AdvanceInput = z.infer<typeof D.AdvanceInput>;
export type SchedulePreview = z.infer<typeof D.SchedulePreview>;
export type SchedulePreviewInput = z.input<typeof D.SchedulePreviewQuery>;
export type SchedulePreset = z.infer<typeof D.SchedulePreset>;
export type Behaviors = z.infer<typeof D.Behaviors>;
export type AutoDisabled = z.infer<typeof D.AutoDisabled>;
export type AttemptReason = z.infer<typeof D.AttemptReason>;
export type PlanUse = z.infer<typeof D.PlanUse>;
export type Timeline = z.infer<typeof D.Timeline>;
export type TimelineAttempt = z.infer<typeof D.TimelineAttempt>;
export type DispatchLabel = z.infer<typeof B.DispatchLabel>;
/** The schedule presets (also in shared/schema/dispatch.ts). */
export const SCHEDULE_PRESETS: readonly SchedulePreset[] = ['portable', 'svix', 'standard-webhooks', 'stripe', 'linear'];

// ------------------------------------------------------- forward and replay

export type ForwardSettings = z.infer<typeof F.ForwardSettingsView>;
export type ForwardSettingsInput = z.input<typeof F.ForwardSettings>;
export type ForwardRecord = z.infer<typeof F.ForwardRecord>;
export type ReplayInput = z.input<typeof F.ReplayInput>;
export type ReplayJob = z.infer<typeof F.ReplayJob>;

// --------------------------------------------------------------- live events

export interface SubscribeAck {
  ok: boolean;
  /** Requests replayed because they came after `lastId`. */
  backfilled?: number;
  /**
   * Captures after `lastSeq` that are gone (evicted by the bin's cap or the store's budget,
   * or deleted) and so could not be replayed. When the subscribe named `lastSeq`, or a
   * `lastId` still stored (its number is known then).
   */
  gap?: number;
  /**
   * Without `lastSeq`, when the capture `lastId` names is gone itself: captures after it may
   * be gone too, and how many cannot be told (send `lastSeq` to get the count in `gap`). Also
   * when `lastSeq` is past the bin's newest number (the bin was deleted and made again with the
   * same id, or emptied before a restart, which numbers from what is left).
   */
  gapUncounted?: boolean;
  /**
   * Only for a subscribe without `lastId`: the newest capture in the bin as it joined (null: the
   * bin was empty), before anything sent to it live. Such a client passes this one (with
   * `lastSeq`) after a reconnect until it has seen one of its own, so what arrived while it
   * was away is replayed rather than lost (with lastId null: every capture numbered after
   * lastSeq, `gap` counting those gone).
   */
  lastId?: string | null;
  /**
   * With `lastId`: that capture's arrival number; for a bin that was empty as it joined, the
   * bin's last arrival number given so far (0: none yet), so a later gap can still be counted.
   */
  lastSeq?: number | null;
  /** 'bin not found'; 'store unavailable' (the store cannot be read now: retry after `retryAfterMs`); … */
  error?: string;
  /** With error 'store unavailable': when to subscribe again (ms). */
  retryAfterMs?: number;
}

/** Why captures left a bin (`requests:deleted`): someone deleted them, or a cap pushed them out. */
export type RequestsGoneReason = 'deleted' | 'evicted';

/** A bin's settings resources, each with its own revision (ETag). */
export type SettingsKind = 'response' | 'forward' | 'verify';

export interface ServerToClientEvents {
  /** Light on purpose (no headers): a busy bin sends thousands; fetch the detail for more. */
  request: (r: RequestItem) => void;
  /**
   * Stored captures changed after their `request` events were sent. `items`: rows that changed
   * (a signature was checked, an answer was recorded), each once, as it is now. `details`: ids
   * whose detail changed but not their row (a forward or replay finished): a client showing
   * one reads it again. One event per bin per event-loop turn (a change made before a
   * capture's own event left is in that event).
   */
  'requests:updated': (e: { binId: string; items: RequestItem[]; details?: string[] }) => void;
  /**
   * Captures gone: `reason` 'deleted' (a delete or a clear: `ids` may be 'all') or 'evicted'
   * (pushed out by the per-bin cap MAX_REQUESTS_PER_BIN or the store-wide MAX_STORE_BYTES).
   */
  'requests:deleted': (e: { binId: string; ids: string[] | 'all'; reason: RequestsGoneReason }) => void;
  /**
   * A bin's settings were replaced (the new ETag): editors reload them or show the conflict.
   * `joined`: sent to a viewer on joining the bin's room, each kind as it stands (maybe no
   * change): a change made before the join was announced to no one.
   */
  'settings:changed': (e: { binId: string; kind: SettingsKind; etag: string; joined?: true }) => void;
  'bin:updated': (b: Bin) => void;
  'bin:deleted': (e: { id: string }) => void;
  'response:position': (e: { binId: string; position: PlanPosition }) => void;
  delivery: (d: Delivery) => void;
  /** A webhook changed by the dispatcher itself (disabled by a behaviour). */
  webhook: (w: Webhook) => void;
  /** cancelling: its pending deliveries still being cancelled (each waits for its attempt under way). */
  'webhook:deleted': (e: { id: string; cancelling: number }) => void;
  run: (r: Run) => void;
  clock: (c: ClockState) => void;
}

export interface ClientToServerEvents {
  /** lastSeq: the `seq` of the capture `lastId` names, so the answer can count a gap. */
  subscribe: (a: { binId: string; lastId?: string | null; lastSeq?: number | null }, ack?: (r: SubscribeAck) => void) => void;
  unsubscribe: (a: { binId: string }) => void;
  'dispatcher:subscribe': (ack?: (r: SubscribeAck) => void) => void;
  'dispatcher:unsubscribe': () => void;
}

/** Receiver URLs live under this prefix: PUBLIC_URL + RECEIVER_PREFIX + binId. */
export const RECEIVER_PREFIX = '/h/';
