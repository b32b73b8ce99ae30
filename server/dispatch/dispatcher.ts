// The reference dispatcher: plays Portable. Runs emit sync_start now and sync_end when they
// end; each event becomes one delivery per enabled, subscribed webhook; each delivery is
// attempted on its planned schedule until a success or the deadline.
//
// Everything reads one VirtualClock. One timer is armed for the earliest due entry; an
// `advance` instead jumps the clock and runs what falls due, in time order, before it answers.
// Attempts of one delivery never overlap (a per-delivery lock); different deliveries run
// concurrently up to `concurrency`.
import type {
  AdvanceInput,
  Attempt,
  ClockInput,
  ClockState,
  Delivery,
  EventName,
  PortablePayload,
  Run,
  RunInput,
  ScheduleSettings,
  Subscription,
  TestResult,
} from '../../shared/api.ts';
import { RECEIVER_PREFIX } from '../../shared/api.ts';
import { flatHeaderValue, headerValue } from '../capture/view.ts';
import { HttpError } from '../http/errors.ts';
import type { LiveBus } from '../live/bus.ts';
import type { Store, StoredWebhook } from '../store/types.ts';
import { iso } from '../time.ts';
import type { VirtualClock } from './clock.ts';
import { type DueEntry, DueQueue } from './due-queue.ts';
import { bigId, detailsFor, syncEnd, syncStart, testEvent } from './payloads.ts';
import { planAttempts, resolveSchedule } from './schedule.ts';
import type { Send, SendResult } from './send.ts';
import { sign } from './signing.ts';

export interface DispatcherDeps {
  store: Store;
  clock: VirtualClock;
  /** Wall time, for `webhook-timestamp`: receivers check it against their own clock. */
  realNow: () => number;
  send: Send;
  live: LiveBus;
  schedule: ScheduleSettings;
  timeoutMs: number;
  concurrency: number;
  userAgent: string;
  newDeliveryId: () => string;
  newMessageId: () => string;
  newRunId: () => string;
  /** Uniform [0, 1): seeds per delivery, ids in payloads. */
  random: () => number;
  onError?: (err: unknown) => void;
}

/** How late (real ms) a timer may fire and the attempt still count as sent when planned. */
const REAL_TOLERANCE_MS = 50;

/** Default run length in virtual time: the article's example ran 20 s. */
export const DEFAULT_RUN_MS = 20_000;

const EVENT_FOR: Record<Subscription, (p: PortablePayload) => boolean> = {
  flow_started: (p) => p.event === 'sync_start',
  flow_succeeded: (p) => p.event === 'sync_end' && p.status === 'SUCCESSFUL',
  flow_failed: (p) => p.event === 'sync_end' && p.status === 'FAILED',
};

/** "/h/<binId>..." in a URL's path -> binId (whatever the host: tests use 127.0.0.1). */
export function binIdFromUrl(url: string): string | null {
  try {
    const p = new URL(url).pathname;
    if (!p.startsWith(RECEIVER_PREFIX)) return null;
    const id = p.slice(RECEIVER_PREFIX.length).split('/')[0];
    return id || null;
  } catch {
    return null;
  }
}

export function isSuccess(r: SendResult, policy: '200' | '2xx'): boolean {
  if (r.error || r.status === null) return false;
  return policy === '2xx' ? r.status >= 200 && r.status < 300 : r.status === 200;
}

export class Dispatcher {
  private readonly queue = new DueQueue();
  /** id -> the instant its live queue entry is for. The dispatcher is the only writer. */
  private readonly expected = new Map<string, number>();
  private readonly inflight = new Set<Promise<void>>();
  /** Resolves when the next attempt in flight finishes (see advance). */
  private settled: Promise<void> | null = null;
  private onSettled: (() => void) | null = null;
  private readonly locks = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  private advancing = 0;
  private lastNextDue: number | null = null;
  private stopped = false;
  private readonly offClock: () => void;

  constructor(private readonly d: DispatcherDeps) {
    this.offClock = d.clock.onChange(() => {
      void d.store.setClock(d.clock.persisted());
      this.arm();
    });
  }

  // ------------------------------------------------------------------ lifecycle

  /** Load what is owed (pending deliveries, runs not ended) and arm the timer. */
  async start(): Promise<void> {
    for (const del of await this.d.store.deliveries.query({ state: 'pending' })) {
      if (del.nextAttemptAt) this.schedule({ at: Date.parse(del.nextAttemptAt), kind: 'attempt', id: del.id, resumed: true });
    }
    for (const run of await this.d.store.runs.list()) {
      if (!run.ended) this.schedule({ at: Date.parse(run.endsAt), kind: 'run-end', id: run.id });
    }
    this.arm();
  }

  /**
   * Stop scheduling. Attempts in flight are not awaited: their delivery still shows the
   * attempt as owed, so after a restart it is made again (at-least-once, same webhook-id).
   */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.offClock();
  }

  // ---------------------------------------------------------------------- clock

  clockState(): ClockState {
    const next = this.peekValid();
    return { now: iso(this.d.clock.now()), scale: this.d.clock.scale, paused: this.d.clock.paused, nextDueAt: next ? iso(next.at) : null };
  }

  setClock(input: ClockInput): ClockState {
    if (input.scale !== undefined) this.d.clock.setScale(input.scale);
    if (input.paused !== undefined) this.d.clock.setPaused(input.paused);
    const s = this.clockState();
    this.d.live.clockChanged(s);
    return s;
  }

  /**
   * Jump the clock forward by `ms`, or to the next due entry, running everything that falls
   * due on the way in time order; answers when all of it has finished.
   */
  async advance(input: AdvanceInput): Promise<ClockState> {
    const now = this.d.clock.now();
    let target: number;
    if (input.to === 'next') {
      const next = this.peekValid();
      target = next ? Math.max(next.at, now) : now;
    } else {
      target = now + (input.ms ?? 0);
    }
    this.advancing++;
    this.arm(); // disarms the real-time timer until the advance is done
    try {
      for (;;) {
        if (this.stopped) break; // shutting down: leave the rest owed, it resumes on start
        this.startDue(() => target, 'advance');
        const next = this.peekValid();
        const more = next !== undefined && next.at <= target;
        if (this.inflight.size === 0 && !more) break;
        // Wait for an attempt to finish: it may free a slot or schedule a follow-up. (One
        // shared promise, not Promise.race over every attempt in flight: that costs a
        // reaction per attempt in flight, each time one finishes.)
        if (this.inflight.size > 0) await (this.settled ??= new Promise<void>((r) => (this.onSettled = r)));
      }
      this.d.clock.jumpTo(target);
    } finally {
      this.advancing--;
    }
    this.arm();
    const s = this.clockState();
    this.d.live.clockChanged(s);
    return s;
  }

  /** Tell the UI when the next due instant moves (a run or retry was scheduled or done). */
  private noteNextDue(next: DueEntry | undefined) {
    const at = next?.at ?? null;
    if (at === this.lastNextDue) return;
    this.lastNextDue = at;
    this.d.live.clockChanged(this.clockState());
  }

  // ------------------------------------------------------------------- events

  async fireRun(input: RunInput): Promise<Run> {
    const now = this.d.clock.now();
    const rnd = this.d.random;
    const outcome = input.outcome ?? 'SUCCESSFUL';
    const run: Run = {
      id: this.d.newRunId(),
      flow_id: input.flow_id ?? bigId(rnd()),
      run_attempt_id: bigId(rnd()),
      source_id: bigId(rnd()),
      destination_id: bigId(rnd()),
      source_type: input.source_type ?? 'hubspot_crm',
      destination_type: input.destination_type ?? 'bigquery',
      outcome,
      details: detailsFor(outcome, input.details),
      startedAt: iso(now),
      endsAt: iso(now + (input.durationMs ?? DEFAULT_RUN_MS)),
      ended: false,
    };
    await this.d.store.runs.put(run);
    this.d.live.runChanged(run);
    await this.emitEvent(syncStart(run, now), now, run.id);
    this.schedule({ at: Date.parse(run.endsAt), kind: 'run-end', id: run.id });
    this.arm();
    return run;
  }

  /** The Test button: one `test` event, one attempt, now; answers its outcome. */
  async fireTest(webhookId: string): Promise<TestResult> {
    const wh = await this.d.store.webhooks.get(webhookId);
    if (!wh) throw new HttpError(404, 'not_found', 'webhook not found');
    const now = this.d.clock.now();
    const del = this.newDelivery(await this.ourBin(wh.url), wh, testEvent(now, this.d.random), now, null, [now]);
    await this.d.store.deliveries.put(del);
    const done = await this.withLock(del.id, () => this.attempt(del.id, now, 'test'));
    const last = done.attempts[done.attempts.length - 1];
    return { delivery: done, status: last?.status ?? null, error: last?.error ?? null, ok: last?.ok ?? false, durationMs: last?.durationMs ?? 0 };
  }

  /** One manual attempt now, outside the schedule. */
  async retryNow(deliveryId: string): Promise<Delivery> {
    // The webhook is checked inside attempt(), under the lock: it may change while we wait.
    return this.withLock(deliveryId, () => this.attempt(deliveryId, this.d.clock.now(), 'manual'));
  }

  /** A webhook was disabled or deleted: its pending deliveries end now, unattempted. */
  async cancelFor(webhookId: string, reason: 'webhook_disabled' | 'webhook_deleted'): Promise<void> {
    for (const del of await this.d.store.deliveries.query({ webhookId, state: 'pending' })) {
      await this.withLock(del.id, async () => {
        const cur = await this.d.store.deliveries.get(del.id);
        if (cur?.state !== 'pending') return;
        this.expected.delete(cur.id);
        await this.save({ ...cur, state: 'cancelled', nextAttemptAt: null, endReason: reason });
      });
    }
  }

  // ----------------------------------------------------------------- internals

  private async emitEvent(payload: PortablePayload, at: number, runId: string | null) {
    const hooks = await this.d.store.webhooks.list();
    for (const wh of hooks) {
      if (!wh.enabled || !wh.events.some((s) => EVENT_FOR[s](payload))) continue;
      const schedule = resolveSchedule(this.d.schedule, wh.schedule);
      const seed = Math.floor(this.d.random() * 2 ** 32);
      const planned = planAttempts(schedule, seed).map((o) => at + o);
      const del = this.newDelivery(await this.ourBin(wh.url), wh, payload, at, runId, planned, schedule, seed);
      await this.save(del);
      this.schedule({ at, kind: 'attempt', id: del.id });
    }
  }

  private newDelivery(
    binId: string | null,
    wh: StoredWebhook,
    payload: PortablePayload,
    at: number,
    runId: string | null,
    planned: number[],
    schedule: ScheduleSettings = this.d.schedule,
    seed = 0,
  ): Delivery {
    return {
      id: this.d.newDeliveryId(),
      webhookId: wh.id,
      webhookName: wh.name,
      url: wh.url,
      runId,
      event: payload.event as EventName,
      payload,
      webhookMessageId: this.d.newMessageId(),
      state: 'pending',
      createdAt: iso(at),
      nextAttemptAt: iso(planned[0]),
      plannedAt: planned.map(iso),
      schedule,
      seed,
      attempts: [],
      endReason: null,
      binId,
    };
  }

  /** The bin a URL points at, when it is one of ours that exists. */
  private async ourBin(url: string): Promise<string | null> {
    const id = binIdFromUrl(url);
    return id && (await this.d.store.bins.get(id)) ? id : null;
  }

  private async save(del: Delivery) {
    await this.d.store.deliveries.put(del);
    this.d.live.deliveryChanged(del);
  }

  /** Drop stale heads (delivery no longer waiting for that instant, run already ended). */
  private peekValid(): DueEntry | undefined {
    for (;;) {
      const e = this.queue.peek();
      if (!e || this.isLive(e)) return e;
      this.queue.pop();
    }
  }

  private isLive(e: DueEntry): boolean {
    return this.expected.get(e.id) === e.at;
  }

  /** Queue work at `at`; `expected` is what makes any older entry for the same id stale. */
  private schedule(e: DueEntry) {
    this.expected.set(e.id, e.at);
    this.queue.push(e);
  }

  /** Start due entries up to the concurrency limit; does not wait for them. */
  private startDue(limit: () => number, mode: 'advance' | 'realtime') {
    while (this.inflight.size < this.d.concurrency && !this.stopped) {
      const e = this.peekValid();
      if (!e || e.at > limit()) return;
      this.queue.pop();
      this.expected.delete(e.id);
      if (mode === 'advance') this.d.clock.jumpTo(e.at);
      const sentAt = mode === 'advance' ? e.at : this.sendTime(e.at);
      const p: Promise<void> = this.runEntry(e, sentAt)
        .catch((err) => this.d.onError?.(err))
        .finally(() => {
          this.inflight.delete(p);
          const wake = this.onSettled;
          this.settled = null;
          this.onSettled = null;
          wake?.();
          this.arm();
        });
      this.inflight.add(p);
    }
  }

  private async runEntry(e: DueEntry, at: number) {
    if (e.kind === 'run-end') {
      const run = await this.d.store.runs.get(e.id);
      if (!run || run.ended) return;
      const ended = { ...run, ended: true };
      await this.d.store.runs.put(ended);
      this.d.live.runChanged(ended);
      await this.emitEvent(syncEnd(ended, e.at), e.at, run.id);
      return;
    }
    await this.withLock(e.id, () => this.attempt(e.id, at, 'scheduled', e.resumed ?? false));
  }

  /**
   * The virtual instant an attempt due at `at` is sent at in real time. A timer fires a few
   * ms late, and at 86400x one real ms is 86 virtual seconds: within REAL_TOLERANCE_MS the
   * attempt counts as sent on time, so a fast clock does not push the last attempt past the
   * deadline. Later than that (a busy or stopped server), the real instant is recorded.
   */
  private sendTime(at: number): number {
    const now = this.d.clock.now();
    if (now <= at) return at;
    return (now - at) / this.d.clock.scale <= REAL_TOLERANCE_MS ? at : now;
  }

  /** Arm the one timer for the earliest due entry (or run what is already due). */
  private arm() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // During an advance, that loop owns the queue: entries keep their planned times.
    if (this.stopped || this.advancing) return;
    this.startDue(() => this.d.clock.now(), 'realtime');
    const next = this.peekValid();
    this.noteNextDue(next);
    if (!next || this.inflight.size >= this.d.concurrency) return;
    const delay = this.d.clock.realDelayUntil(next.at);
    if (!Number.isFinite(delay)) return; // paused
    this.timer = setTimeout(() => {
      this.timer = null;
      this.arm();
    }, Math.min(Math.ceil(delay), 2 ** 31 - 1));
  }

  private withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return run;
  }

  /** One attempt of a delivery at virtual time `at`; records it and plans the next. */
  private async attempt(id: string, at: number, kind: 'scheduled' | 'manual' | 'test', resumed = false): Promise<Delivery> {
    const del = await this.d.store.deliveries.get(id);
    if (!del) throw new HttpError(404, 'not_found', 'delivery not found');
    if (kind === 'scheduled' && (del.state !== 'pending' || del.nextAttemptAt === null)) return del;
    const wh = await this.d.store.webhooks.get(del.webhookId);
    if (kind === 'scheduled' && (!wh || !wh.enabled)) {
      const ended: Delivery = { ...del, state: 'cancelled', nextAttemptAt: null, endReason: wh ? 'webhook_disabled' : 'webhook_deleted' };
      await this.save(ended);
      return ended;
    }
    if (kind === 'manual') {
      if (!wh) throw new HttpError(409, 'webhook_deleted', 'the webhook of this delivery was deleted');
      if (!wh.enabled) throw new HttpError(409, 'webhook_disabled', 'the webhook of this delivery is disabled');
    }
    const n = del.attempts.length + 1;
    const plannedAt = kind === 'scheduled' ? del.nextAttemptAt! : iso(at);
    const body = Buffer.from(JSON.stringify(del.payload));
    // Wall time, not virtual: Standard Webhooks verifiers reject timestamps outside a few
    // minutes of their clock, and a fast-forwarded clock would be hours ahead.
    const ts = Math.floor(this.d.realNow() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': this.d.userAgent,
      'webhook-id': del.webhookMessageId,
      'webhook-timestamp': String(ts),
      'x-hooklab-attempt': String(n),
      'x-hooklab-delivery': del.id,
    };
    if (wh?.secret) headers['webhook-signature'] = sign(wh.secret, del.webhookMessageId, ts, body);
    const res = await this.d.send({ url: del.url, headers, body, timeoutMs: wh?.timeoutMs ?? this.d.timeoutMs });

    const redirect = res.status !== null && res.status >= 300 && res.status < 400;
    const ok = isSuccess(res, wh?.successPolicy ?? '200');
    const attempt: Attempt = {
      n,
      plannedAt,
      sentAt: iso(at),
      status: res.status,
      error: res.error ?? (redirect ? 'redirect' : null),
      errorDetail: res.errorDetail ?? (redirect ? `redirect to ${headerValue(res.headers, 'location') ?? '(no location)'} not followed` : null),
      ok,
      durationMs: res.durationMs,
      requestHeaders: Object.entries(headers),
      responseHeaders: res.headers,
      responseBody: res.body,
      responseBodyTruncated: res.bodyTruncated,
      manual: kind === 'manual',
      capturedRequestId: await this.capturedId(del, res, n),
    };

    // Re-read: a cancel may have landed while the request was in flight.
    const cur = (await this.d.store.deliveries.get(id)) ?? del;
    const next: Delivery = { ...cur, attempts: [...cur.attempts, attempt] };
    if (ok) {
      next.state = 'delivered';
      next.nextAttemptAt = null;
      next.endReason = 'delivered';
    } else if (kind === 'scheduled' && cur.state === 'pending') {
      // Normally the next planned instant after this one, late or not; after a restart, the
      // next one still ahead (see nextPlanned).
      const following = this.nextPlanned(cur, resumed ? at : Date.parse(plannedAt));
      if (following === null) {
        next.state = 'failed';
        next.nextAttemptAt = null;
        next.endReason = 'deadline';
      } else {
        next.nextAttemptAt = iso(following);
        this.schedule({ at: following, kind: 'attempt', id });
      }
    } else if (kind === 'test') {
      next.state = 'failed';
      next.nextAttemptAt = null;
      next.endReason = 'test_failed';
    }
    await this.save(next);
    return next;
  }

  /**
   * The first planned instant after `after`. For a resumed delivery `after` is the send time,
   * so planned instants that passed while the server was down are skipped: a late restart
   * makes one owed attempt, not a burst.
   */
  private nextPlanned(del: Delivery, at: number): number | null {
    const scheduledSoFar = del.attempts.filter((a) => !a.manual).length + 1;
    for (let i = scheduledSoFar; i < del.plannedAt.length; i++) {
      const t = Date.parse(del.plannedAt[i]);
      if (t > at) return t;
    }
    return null;
  }

  /** Link an attempt to the request our bin captured for it. */
  private async capturedId(del: Delivery, res: SendResult, n: number): Promise<string | null> {
    if (!del.binId) return null;
    // Trust the id only if that bin really holds it (any host could send the header).
    const fromHeader = headerValue(res.headers, 'x-hooklab-request-id');
    if (fromHeader && (await this.d.store.requests.has(del.binId, fromHeader))) return fromHeader;
    // No answer (timeout, reset): find it by the headers we sent.
    const recent = await this.d.store.requests.page(del.binId, { limit: 100 });
    const hit = recent.find(
      (r) => flatHeaderValue(r.headers, 'webhook-id') === del.webhookMessageId && flatHeaderValue(r.headers, 'x-hooklab-attempt') === String(n),
    );
    return hit?.id ?? null;
  }
}

