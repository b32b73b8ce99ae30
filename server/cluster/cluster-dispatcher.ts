// The dispatcher API on several instances: the instance that holds the dispatcher's lease
// (dispatcher-lease.ts) runs it; any other instance passes each call to that one over HTTP,
// with the caller's request as it came (same route, same body), so a run fired on B, or an
// advance of the clock on B, acts on the one dispatcher. A call passed on is never passed
// again (a lease changing hands at that moment answers 503, retryable). A call sent whose
// answer never came (the holder died or stalled, or took longer than any call may) is not
// retryable as such: the holder may have made it, and a retry could make a second Test or run.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AdvanceInput, ClockInput, ClockState, Delivery, Run, RunInput, TestResult } from '../../shared/api.ts';
import type { Dispatcher } from '../dispatch/dispatcher.ts';
import type { CancelReason, DispatcherApi } from '../dispatch/dispatcher-api.ts';
import { HttpError } from '../http/errors.ts';
import { passOn, PassOnError } from './pass-on.ts';

/** The header a passed-on call carries. */
export const HOP_HEADER = 'x-hooklab-hop';

/** Set while serving a call another instance passed on. */
export const passedOn = new AsyncLocalStorage<true>();

export interface ClusterDispatcherOptions {
  /** Who runs the dispatcher now: its lease (epoch and URL) and URL; null between holders. */
  holder: () => Promise<{ lease: string; url: string } | null>;
  selfUrl: string;
  /** AUTH_TOKEN: every instance shares it. */
  token: string | null;
  /** A webhook was disabled or deleted here: tell the holder (it cancels what is owed). */
  noteWebhook: (webhookId: string) => void;
  /** The longest a passed-on call may take (REMOTE_CALL_TIMEOUT_MS). */
  timeoutMs: number;
  /** How often the lease is read while a passed-on call is under way (DISPATCHER_LEASE_MS / 3). */
  watchMs: number;
}

/** The longest an attempt may wait for its answer (a webhook's timeoutMs, DISPATCH_TIMEOUT_MS: both at most 600 s). */
const MAX_ATTEMPT_TIMEOUT_MS = 600_000;

/**
 * How long a call passed to the holder is awaited (21 min). A Test waits for its receiver to be
 * free (an attempt to it in flight: up to its timeout) and then for its own attempt, each up to
 * MAX_ATTEMPT_TIMEOUT_MS, plus the store's steps: a ceiling, not the usual wait. A holder that
 * dies breaks the connection at once, and one that stalls loses its lease, which the caller
 * watches (see remote).
 */
export const REMOTE_CALL_TIMEOUT_MS = 2 * MAX_ATTEMPT_TIMEOUT_MS + 60_000;

const UNAVAILABLE = 'The dispatcher is moving to another instance; retry in a few seconds.';
const OUTCOME_UNKNOWN = 'dispatcher_outcome_unknown';

export class ClusterDispatcher implements DispatcherApi {
  /** The dispatcher, while this instance holds the lease. */
  local: Dispatcher | null = null;

  constructor(private readonly o: ClusterDispatcherOptions) {}

  /** `check`: where the caller can see whether the call was made. */
  private async remote<T>(method: string, path: string, check: string, body?: unknown): Promise<T> {
    const holder = await this.o.holder();
    if (!holder || holder.url === this.o.selfUrl || passedOn.getStore()) throw new HttpError(503, 'dispatcher_unavailable', UNAVAILABLE);
    let res: { status: number; text: string };
    try {
      res = await passOn(holder.url + path, {
        method,
        headers: { 'content-type': 'application/json', [HOP_HEADER]: '1', ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs: this.o.timeoutMs,
        // The holder stalled past its lease (or lost it): its answer, if it ever comes, is moot.
        watch: async () => {
          const now = await this.o.holder();
          return now && now.lease !== holder.lease ? 'the instance it was sent to no longer runs the dispatcher' : null;
        },
        watchMs: this.o.watchMs,
      });
    } catch (err) {
      // (A read changes nothing: asking again is always safe.)
      if (!(err instanceof PassOnError) || !err.reached || method === 'GET') throw new HttpError(503, 'dispatcher_unavailable', UNAVAILABLE);
      throw new HttpError(
        err.timedOut ? 504 : 502,
        OUTCOME_UNKNOWN,
        `The call reached the dispatcher on another instance (${holder.url}), but its outcome is unknown (${err.message}): it may have been made. Check ${check} before trying again.`,
      );
    }
    let data: { error?: { code?: string; message?: string } } | null = null;
    try {
      data = JSON.parse(res.text);
    } catch {
      // not JSON: said below by its status
    }
    if (res.status < 200 || res.status >= 300) throw new HttpError(res.status, data?.error?.code ?? 'dispatcher_error', data?.error?.message ?? `the dispatcher answered ${res.status}`);
    return data as T;
  }

  clockState(): ClockState | Promise<ClockState> {
    return this.local ? this.local.clockState() : this.remote('GET', '/api/clock', 'GET /api/clock');
  }
  setClock(input: ClockInput): ClockState | Promise<ClockState> {
    return this.local ? this.local.setClock(input) : this.remote('PUT', '/api/clock', 'GET /api/clock', input);
  }
  advance(input: AdvanceInput): Promise<ClockState> {
    return this.local ? this.local.advance(input) : this.remote('POST', '/api/clock/advance', 'GET /api/clock', input);
  }
  fireRun(input: RunInput): Promise<Run> {
    return this.local ? this.local.fireRun(input) : this.remote('POST', '/api/runs', 'GET /api/runs', input);
  }
  fireTest(webhookId: string): Promise<TestResult> {
    return this.local ? this.local.fireTest(webhookId) : this.remote('POST', `/api/webhooks/${encodeURIComponent(webhookId)}/test`, `GET /api/deliveries?webhookId=${encodeURIComponent(webhookId)}`);
  }
  retryNow(deliveryId: string): Promise<Delivery> {
    return this.local ? this.local.retryNow(deliveryId) : this.remote('POST', `/api/deliveries/${encodeURIComponent(deliveryId)}/retry`, `GET /api/deliveries/${encodeURIComponent(deliveryId)}`);
  }
  async cancelFor(webhookId: string, reason: CancelReason): Promise<number | null> {
    if (this.local) return this.local.cancelFor(webhookId, reason);
    this.o.noteWebhook(webhookId);
    return null;
  }
}
