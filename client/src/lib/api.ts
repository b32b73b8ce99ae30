// Typed fetch wrapper for the hooklab API. Every failure becomes an ApiError carrying the
// server's `error.message` and `field`, so forms can show the message next to the field.
import type {
  AdvanceInput,
  ApiErrorBody,
  Bin,
  ClockInput,
  ClockState,
  Delivery,
  DeliveryQuery,
  RequestDetail,
  RequestPage,
  ResponseConfigInput,
  ResponseControlView,
  Run,
  RunInput,
  SchedulePreview,
  SchedulePreviewInput,
  TestResult,
  Webhook,
  WebhookInput,
} from '../../../shared/api.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Listeners told when the API answers 401 (AUTH_TOKEN set and the cookie is gone). */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(fn: () => void): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api${path}`, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the hooklab server. Is it running?');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    if (res.status === 401) for (const fn of unauthorizedListeners) fn();
    const err = (data as ApiErrorBody | null)?.error;
    throw new ApiError(res.status, err?.code ?? 'http_error', err?.message ?? `The server answered ${res.status} ${res.statusText}`, err?.field);
  }
  return data as T;
}

const enc = encodeURIComponent;

function qs(params: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export const api = {
  // bins
  listBins: () => call<{ bins: Bin[] }>('GET', '/bins').then((r) => r.bins),
  createBin: (name?: string) => call<Bin>('POST', '/bins', name ? { name } : {}),
  getBin: (id: string) => call<Bin>('GET', `/bins/${enc(id)}`),
  renameBin: (id: string, name: string) => call<Bin>('PATCH', `/bins/${enc(id)}`, { name }),
  deleteBin: (id: string) => call<void>('DELETE', `/bins/${enc(id)}`),

  // captured requests
  listRequests: (binId: string, q: { limit?: number; before?: string; after?: string } = {}) =>
    call<RequestPage>('GET', `/bins/${enc(binId)}/requests${qs(q)}`),
  getRequest: (binId: string, rid: string) => call<RequestDetail>('GET', `/bins/${enc(binId)}/requests/${enc(rid)}`),
  deleteRequest: (binId: string, rid: string) => call<void>('DELETE', `/bins/${enc(binId)}/requests/${enc(rid)}`),
  clearRequests: (binId: string) => call<void>('DELETE', `/bins/${enc(binId)}/requests`),
  rawUrl: (binId: string, rid: string, download = false) =>
    `/api/bins/${enc(binId)}/requests/${enc(rid)}/raw${download ? '?download=1' : ''}`,

  // response control
  getResponse: (binId: string) => call<ResponseControlView>('GET', `/bins/${enc(binId)}/response`),
  putResponse: (binId: string, config: ResponseConfigInput) => call<ResponseControlView>('PUT', `/bins/${enc(binId)}/response`, config),
  resetResponse: (binId: string) => call<ResponseControlView>('POST', `/bins/${enc(binId)}/response/reset`),

  // webhooks
  listWebhooks: () => call<{ webhooks: Webhook[] }>('GET', '/webhooks').then((r) => r.webhooks),
  createWebhook: (input: WebhookInput) => call<Webhook>('POST', '/webhooks', input),
  updateWebhook: (id: string, input: WebhookInput) => call<Webhook>('PATCH', `/webhooks/${enc(id)}`, input),
  deleteWebhook: (id: string) => call<void>('DELETE', `/webhooks/${enc(id)}`),
  testWebhook: (id: string) => call<TestResult>('POST', `/webhooks/${enc(id)}/test`),

  // dispatcher
  fireRun: (input: RunInput) => call<Run>('POST', '/runs', input),
  listRuns: () => call<{ runs: Run[] }>('GET', '/runs').then((r) => r.runs),
  listDeliveries: (q: DeliveryQuery = {}) =>
    call<{ deliveries: Delivery[] }>('GET', `/deliveries${qs({ ...q })}`).then((r) => r.deliveries),
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
