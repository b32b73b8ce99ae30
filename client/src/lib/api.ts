// Typed fetch wrapper for the hooklab API. Every failure becomes an ApiError carrying the
// server's `error.message` and every bad field (`error.fields`), so forms can mark them all
// in place. Settings resources answer an ETag; their calls hand it back (Tagged) and send it
// as If-Match, so a stale save gets 412 instead of overwriting someone else's change.
import type {
  AdvanceInput,
  ApiErrorBody,
  Bin,
  ClockInput,
  ClockState,
  Delivery,
  DeliveryPage,
  DeliveryQuery,
  FieldError,
  ForwardRecord,
  ForwardSettings,
  ForwardSettingsInput,
  ReplayInput,
  ReplayJob,
  RequestDetail,
  RequestPage,
  ResponseConfigInput,
  ResponseCheckAnswer,
  ResponseControlView,
  Run,
  RunInput,
  SchedulePreview,
  SchedulePreviewInput,
  TestResult,
  Webhook,
  WebhookInput,
} from '../../../shared/api.ts';
import type { KeyGroupsT, VerifyPutAnswerT, VerifySettingsPutT, VerifySettingsViewT } from '../../../shared/schema/verify.ts';
import { noteReachable, noteStarting, noteUnreachable } from './reachability.ts';
import { type RequestFilter, filterParams } from './request-filter.ts';

export class ApiError extends Error {
  readonly fields: FieldError[];
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    fields?: FieldError[],
  ) {
    super(message);
    this.fields = fields ?? (field ? [{ field, message }] : []);
  }
}

export const NETWORK_MESSAGE = 'Cannot reach the hooklab server. Is it running?';

/** A settings resource and its revision. */
export interface Tagged<T> {
  value: T;
  etag: string | null;
}

/** Listeners told when the API answers 401 (AUTH_TOKEN set and the cookie is gone). */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(fn: () => void): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

interface CallOptions {
  ifMatch?: string | null;
  /** A raw body (an import file) sent as is, with this content type. */
  raw?: { body: Blob | string; type: string };
  /** Answer the text instead of parsing JSON. */
  text?: boolean;
  /** Given up by the caller (a read that took too long): the request is ended, not left open. */
  signal?: AbortSignal;
}

async function send<T>(method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<Tagged<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.raw) headers['content-type'] = opts.raw.type;
  else if (body !== undefined) headers['content-type'] = 'application/json';
  if (opts.ifMatch) headers['if-match'] = opts.ifMatch;
  let res: Response;
  try {
    res = await fetch(`/api${path}`, {
      method,
      headers,
      body: opts.raw ? opts.raw.body : body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch {
    // Ended by the caller: no sign of the server being away.
    if (opts.signal?.aborted) throw new ApiError(0, 'aborted', 'given up waiting for the server');
    noteUnreachable();
    throw new ApiError(0, 'network', NETWORK_MESSAGE);
  }
  const etag = res.headers.get('etag');
  const text = res.status === 204 ? '' : await res.text();
  let data: unknown = null;
  if (text && !(res.ok && opts.text)) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  const err = (data as ApiErrorBody | null)?.error;
  // Still loading its data after a restart: not there yet, and it says when to ask again.
  if (res.status === 503 && err?.code === 'starting') {
    noteStarting(Math.min(10, Number(res.headers.get('retry-after')) || 2) * 1000);
    throw new ApiError(503, 'starting', err.message);
  }
  noteReachable();
  if (res.status === 204) return { value: undefined as T, etag };
  if (res.ok && opts.text) return { value: text as T, etag };
  if (!res.ok) {
    if (res.status === 401) for (const fn of unauthorizedListeners) fn();
    throw new ApiError(res.status, err?.code ?? 'http_error', err?.message ?? `The server answered ${res.status} ${res.statusText}`, err?.field, err?.fields);
  }
  return { value: data as T, etag };
}

const call = <T>(method: string, path: string, body?: unknown, opts?: CallOptions): Promise<T> => send<T>(method, path, body, opts).then((r) => r.value);

const enc = encodeURIComponent;

function qs(params: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export interface PageQuery {
  limit?: number;
  before?: string;
  after?: string;
}

export type ExportFormat = 'har' | 'ndjson';

export const api = {
  // bins
  listBins: (signal?: AbortSignal) => call<{ bins: Bin[] }>('GET', '/bins', undefined, { signal }).then((r) => r.bins),
  createBin: (name?: string) => call<Bin>('POST', '/bins', name ? { name } : {}),
  getBin: (id: string, signal?: AbortSignal) => call<Bin>('GET', `/bins/${enc(id)}`, undefined, { signal }),
  renameBin: (id: string, name: string) => call<Bin>('PATCH', `/bins/${enc(id)}`, { name }),
  /** Where the bin's list rows take their label from ([]: the built-in rules). */
  setLabelFrom: (id: string, labelFrom: string[]) => call<Bin>('PATCH', `/bins/${enc(id)}`, { labelFrom }),
  deleteBin: (id: string) => call<void>('DELETE', `/bins/${enc(id)}`),

  // captured requests (a filter searches on the server)
  listRequests: (binId: string, q: PageQuery = {}, filter: RequestFilter = {}) => {
    const p = filterParams(filter);
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
    const s = p.toString();
    return call<RequestPage>('GET', `/bins/${enc(binId)}/requests${s ? `?${s}` : ''}`);
  },
  getRequest: (binId: string, rid: string) => call<RequestDetail>('GET', `/bins/${enc(binId)}/requests/${enc(rid)}`),
  deleteRequest: (binId: string, rid: string) => call<void>('DELETE', `/bins/${enc(binId)}/requests/${enc(rid)}`),
  clearRequests: (binId: string) => call<void>('DELETE', `/bins/${enc(binId)}/requests`),
  rawUrl: (binId: string, rid: string, download = false) =>
    `/api/bins/${enc(binId)}/requests/${enc(rid)}/raw${download ? '?download=1' : ''}`,

  // export and import
  exportUrl: (binId: string, format: ExportFormat) => `/api/bins/${enc(binId)}/export?format=${format}`,
  /** One capture as a HAR 1.2 document (text, for the clipboard). */
  harOf: (binId: string, rid: string) => call<string>('GET', `/bins/${enc(binId)}/export?format=har&ids=${enc(rid)}`, undefined, { text: true }),
  importCaptures: (binId: string, file: Blob, format: ExportFormat) =>
    call<{ imported: number; evicted: number }>('POST', `/bins/${enc(binId)}/import`, undefined, {
      raw: { body: file, type: format === 'har' ? 'application/json' : 'application/x-ndjson' },
    }),

  // response control
  getResponse: (binId: string) => send<ResponseControlView>('GET', `/bins/${enc(binId)}/response`),
  putResponse: (binId: string, config: ResponseConfigInput, ifMatch: string | null) =>
    send<ResponseControlView>('PUT', `/bins/${enc(binId)}/response`, config, { ifMatch }),
  resetResponse: (binId: string) => call<ResponseControlView>('POST', `/bins/${enc(binId)}/response/reset`),
  checkResponse: (binId: string, config: ResponseConfigInput) => call<ResponseCheckAnswer>('POST', `/bins/${enc(binId)}/response/check`, config),

  // forward targets and replays
  getForward: (binId: string) => send<ForwardSettings>('GET', `/bins/${enc(binId)}/forward`),
  putForward: (binId: string, input: ForwardSettingsInput, ifMatch: string | null) =>
    send<ForwardSettings>('PUT', `/bins/${enc(binId)}/forward`, input, { ifMatch }),
  replay: (binId: string, rid: string, input: ReplayInput = {}) =>
    call<{ records: ForwardRecord[] }>('POST', `/bins/${enc(binId)}/requests/${enc(rid)}/replay`, input),
  bulkReplay: (binId: string, input: { url?: string; ids?: string[] }) => call<ReplayJob>('POST', `/bins/${enc(binId)}/replay`, input),
  getReplay: (id: string) => call<ReplayJob>('GET', `/replays/${enc(id)}`),

  // signatures and idempotency
  getVerify: (binId: string) => send<VerifySettingsViewT>('GET', `/bins/${enc(binId)}/verify`),
  putVerify: (binId: string, input: VerifySettingsPutT, ifMatch: string | null) =>
    send<VerifyPutAnswerT>('PUT', `/bins/${enc(binId)}/verify`, input, { ifMatch }),
  /** The bin's captures grouped by idempotency key, and bodies that arrived under more than one key. */
  getIdempotency: (binId: string) => call<KeyGroupsT>('GET', `/bins/${enc(binId)}/idempotency`),

  // webhooks
  listWebhooks: () => call<{ webhooks: Webhook[] }>('GET', '/webhooks').then((r) => r.webhooks),
  getWebhook: (id: string) => send<Webhook>('GET', `/webhooks/${enc(id)}`),
  createWebhook: (input: WebhookInput) => send<Webhook>('POST', '/webhooks', input),
  updateWebhook: (id: string, input: WebhookInput, ifMatch: string | null) => send<Webhook>('PATCH', `/webhooks/${enc(id)}`, input, { ifMatch }),
  /** 204 (nothing left), or 202 with how many pending deliveries wait for their attempt under way to end cancelled. */
  deleteWebhook: (id: string) => call<{ id: string; cancelling: number } | undefined>('DELETE', `/webhooks/${enc(id)}`).then((r) => r?.cancelling ?? 0),
  testWebhook: (id: string) => call<TestResult>('POST', `/webhooks/${enc(id)}/test`),

  // dispatcher
  fireRun: (input: RunInput) => call<Run>('POST', '/runs', input),
  listRuns: () => call<{ runs: Run[] }>('GET', '/runs').then((r) => r.runs),
  /** A page of deliveries, newest first, and the next page's cursor (null: none older). */
  listDeliveries: (q: DeliveryQuery = {}) => call<DeliveryPage>('GET', `/deliveries${qs({ ...q })}`),
  getDelivery: (id: string) => call<Delivery>('GET', `/deliveries/${enc(id)}`),
  retryDelivery: (id: string) => call<Delivery>('POST', `/deliveries/${enc(id)}/retry`),
  getClock: () => call<ClockState>('GET', '/clock'),
  setClock: (input: ClockInput) => call<ClockState>('PUT', '/clock', input),
  advanceClock: (input: AdvanceInput) => call<ClockState>('POST', '/clock/advance', input),
  /** Query values as typed (strings): the server validates and names a bad one. */
  schedulePreview: (q: Partial<Record<keyof SchedulePreviewInput, string>> = {}) => call<SchedulePreview>('GET', `/schedule/preview${qs(q)}`),
  /** Where a timeline export is downloaded from (a plain link: the browser saves it). */
  timelineUrl: (what: 'deliveries' | 'runs', id: string, format: 'json' | 'csv') => `/api/${what}/${enc(id)}/timeline?format=${format}`,
};

/** The message without its leading "field: ", for showing next to that field. */
export function fieldMessage(err: ApiError): string {
  return err.field && err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message;
}

/** A short human message for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The server could not be reached, or is still starting: either passes by itself (use-error.ts retries). */
export const isNetworkError = (err: unknown): boolean => err instanceof ApiError && (err.status === 0 || err.code === 'starting');
export const isStale = (err: unknown): boolean => err instanceof ApiError && err.status === 412;
export const isNotFound = (err: unknown): boolean => err instanceof ApiError && err.status === 404;
