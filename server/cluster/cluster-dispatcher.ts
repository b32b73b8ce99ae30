// The dispatcher API on several instances: the instance that holds the dispatcher's lease
// (dispatcher-lease.ts) runs it; any other instance passes each call to that one over HTTP,
// with the caller's request as it came (same route, same body), so a run fired on B, or an
// advance of the clock on B, acts on the one dispatcher. A call passed on is never passed
// again (a lease changing hands at that moment answers 503, retryable).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AdvanceInput, ClockInput, ClockState, Delivery, Run, RunInput, TestResult } from '../../shared/api.ts';
import type { Dispatcher } from '../dispatch/dispatcher.ts';
import type { CancelReason, DispatcherApi } from '../dispatch/dispatcher-api.ts';
import { HttpError } from '../http/errors.ts';

/** The header a passed-on call carries. */
export const HOP_HEADER = 'x-hooklab-hop';

/** Set while serving a call another instance passed on. */
export const passedOn = new AsyncLocalStorage<true>();

export interface ClusterDispatcherOptions {
  /** Where the dispatcher runs now (null: between holders). */
  holderUrl: () => Promise<string | null>;
  selfUrl: string;
  /** AUTH_TOKEN: every instance shares it. */
  token: string | null;
  /** A webhook was disabled or deleted here: tell the holder (it cancels what is owed). */
  noteWebhook: (webhookId: string) => void;
  timeoutMs: number;
}

const UNAVAILABLE = 'The dispatcher is moving to another instance; retry in a few seconds.';

export class ClusterDispatcher implements DispatcherApi {
  /** The dispatcher, while this instance holds the lease. */
  local: Dispatcher | null = null;

  constructor(private readonly o: ClusterDispatcherOptions) {}

  private async remote<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = await this.o.holderUrl();
    if (!url || url === this.o.selfUrl || passedOn.getStore()) throw new HttpError(503, 'dispatcher_unavailable', UNAVAILABLE);
    let res: Response;
    try {
      res = await fetch(url + path, {
        method,
        headers: { 'content-type': 'application/json', [HOP_HEADER]: '1', ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch {
      throw new HttpError(503, 'dispatcher_unavailable', UNAVAILABLE);
    }
    const data = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    if (!res.ok) throw new HttpError(res.status, data?.error?.code ?? 'dispatcher_error', data?.error?.message ?? `the dispatcher answered ${res.status}`);
    return data as T;
  }

  clockState(): ClockState | Promise<ClockState> {
    return this.local ? this.local.clockState() : this.remote('GET', '/api/clock');
  }
  setClock(input: ClockInput): ClockState | Promise<ClockState> {
    return this.local ? this.local.setClock(input) : this.remote('PUT', '/api/clock', input);
  }
  advance(input: AdvanceInput): Promise<ClockState> {
    return this.local ? this.local.advance(input) : this.remote('POST', '/api/clock/advance', input);
  }
  fireRun(input: RunInput): Promise<Run> {
    return this.local ? this.local.fireRun(input) : this.remote('POST', '/api/runs', input);
  }
  fireTest(webhookId: string): Promise<TestResult> {
    return this.local ? this.local.fireTest(webhookId) : this.remote('POST', `/api/webhooks/${encodeURIComponent(webhookId)}/test`);
  }
  retryNow(deliveryId: string): Promise<Delivery> {
    return this.local ? this.local.retryNow(deliveryId) : this.remote('POST', `/api/deliveries/${encodeURIComponent(deliveryId)}/retry`);
  }
  async cancelFor(webhookId: string, reason: CancelReason): Promise<number | null> {
    if (this.local) return this.local.cancelFor(webhookId, reason);
    this.o.noteWebhook(webhookId);
    return null;
  }
}
