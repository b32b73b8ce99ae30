// The reference dispatcher: plays Portable (and, per webhook, other senders' schedules and
// behaviours). Runs emit sync_start now and sync_end when they end; each event becomes one
// delivery per enabled, subscribed webhook; each delivery is attempted on its planned
// schedule until a success, its deadline, or a behaviour ends it.
//
// Everything reads one VirtualClock, and the clock waits for the dispatcher: it is held at
// the earliest due instant not yet sent (clock.ts), so every attempt is sent when the clock
// reads its planned instant, and that is the time recorded, even at 86400x or after a
// restart. When the dispatcher cannot keep up, virtual time runs slower (ClockState.lagging).
//
// Due work starts in planned-time order. Attempts to one receiver (receiver-key.ts) made at
// different instants never overlap, so a receiver sees them in the order of their recorded
// times; same-instant attempts and other receivers' go concurrently up to `concurrency`.
// One timer is armed for the earliest due entry; an `advance` jumps the clock instead and
// runs what falls due, in time order, before it answers.
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
import { type Store, type StoredWebhook, StoreUnavailableError } from '../store/types.ts';
import { END_OF_TIME, iso } from '../time.ts';
import { type AttemptKind, decideNext } from './attempt-outcome.ts';
import { type CancelEnd, cancelledAsFound, cancelledByBehavior, cancelledByUser } from './cancel-words.ts';
import type { CancelReason } from './dispatcher-api.ts';
import type { VirtualClock } from './clock.ts';
import { type DueEntry, DueQueue, InstantSet } from './due-queue.ts';
import { bigId, detailsFor, syncEnd, syncStart, testEvent } from './payloads.ts';
import { planUseOf } from './plan-use.ts';
import { receiverKey } from './receiver-key.ts';
import { MAX_ATTEMPTS, planAttempts, resolveSchedule } from './schedule.ts';
import type { Send, SendResult } from './send.ts';
import { signatureHeader } from './signing.ts';
import { webhookView } from './webhook-input.ts';
import { disableVerdict, streakAfterAttempt, streakAfterDeliveryEnd } from './webhook-health.ts';
import { ownBytes } from '../lib/own-bytes.ts';
import { internPairs } from '../lib/intern.ts';

export interface DispatcherDeps {
  store: Store;
  clock: VirtualClock;
  /** Wall time, for `webhook-timestamp`: receivers check it against their own clock. */
  realNow: () => number;
  send: Send;
  live: LiveBus;
  schedule: ScheduleSettings;
  /** MAX_SCHEDULE_ATTEMPTS (default 200): a delivery plans at most this many. */
  maxAttempts?: number;
  timeoutMs: number;
  concurrency: number;
  userAgent: string;
  newDeliveryId: () => string;
  newMessageId: () => string;
  newRunId: () => string;
  /** Uniform [0, 1): seeds per delivery, ids in payloads. */
  random: () => number;
  onError?: (err: unknown) => void;
  /**
   * Deliveries that may be pending at once (MAX_PENDING_DELIVERIES; default: no limit). A run,
   * or a test send, that would pass it is refused whole, before it makes any (see admit).
   */
  maxPending?: number;
  /**
   * Runs a change to a webhook (read, then written) in its turn with the API's writes to it
   * (see api/settings-writes.ts), so neither loses the other's. Default: at once.
   */
  webhookTurn?: <T>(webhookId: string, change: () => Promise<T>) => Promise<T>;
  /** Waits before a store step of the dispatcher's own work is tried again (see persist): the first, doubled up to the last (default 250 ms to 10 s). */
  storeRetryMs?: { first: number; max: number };
  /**
   * Waited for before each attempt is sent (on Redis: until the lease is surely this
   * instance's; see cluster/dispatcher-lease.ts). Default: none.
   */
  beforeSend?: () => Promise<void>;
  /** How long "Retry now" waits for beforeSend before answering 503 (default 5 s): an API call answers. */
  sureWaitMs?: number;
}

/** How often a wait for a store fault to end looks again (see faultGone, receiverFree). */
const FAULT_POLL_MS = 250;

/** A store step that fails this many times while the store says it is healthy is given up (the step itself is at fault). */
const HEALTHY_TRIES = 5;

/** Default run length in virtual time: the article's example ran 20 s. */
export const DEFAULT_RUN_MS = 20_000;

/** Held back by more than this much real time: the dispatcher is said to be lagging. */
const LAGGING_REAL_MS = 250;

/** The error code of a run or test refused by MAX_PENDING_DELIVERIES. */
export const TOO_MANY_PENDING = 'too_many_pending_deliveries';
/** Its Retry-After: pending deliveries end as the clock reaches their attempts. */
export const PENDING_RETRY_AFTER_S = 10;

/**
 * The Retry-After an API error is answered with, when it is the pending-delivery budget's 503
 * (also when another instance passed the call on and relays the error: see cluster-dispatcher.ts).
 */
export function pendingRetryAfter(err: HttpError): number | null {
  return err.status === 503 && err.code === TOO_MANY_PENDING ? PENDING_RETRY_AFTER_S : null;
}

type EventKind = Pick<PortablePayload, 'event' | 'status'>;

const EVENT_FOR: Record<Subscription, (p: EventKind) => boolean> = {
  flow_started: (p) => p.event === 'sync_start',
  flow_succeeded: (p) => p.event === 'sync_end' && p.status === 'SUCCESSFUL',
  flow_failed: (p) => p.event === 'sync_end' && p.status === 'FAILED',
};

/** Whether an event makes a delivery for this webhook. */
const wants = (wh: StoredWebhook, p: EventKind) => wh.enabled && wh.events.some((s) => EVENT_FOR[s](p));

/** How many deliveries an event makes, with these webhooks. */
const deliveriesFor = (hooks: readonly StoredWebhook[], p: EventKind) => hooks.reduce((n, wh) => (wants(wh, p) ? n + 1 : n), 0);

/** Deliveries counted against MAX_PENDING_DELIVERIES before they are made; `left` not made yet. */
interface Reservation {
  left: number;
}

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

/** A due entry started by the queue: sent once the attempt is handed to the sender. */
interface Ticket {
  at: number;
  sent: boolean;
  /** The receiver it holds until its answer is in (null: none, or released). */
  key: string | null;
  /** While the attempt is in flight: its delivery's next planned instant (see `unsent`). */
  followUp: number | null;
}

/** What an attempt leaves to do outside the delivery's lock (it touches other deliveries). */
interface AttemptDone {
  delivery: Delivery;
  disable: { reason: 'gone' | 'failing'; detail: string; at: number } | null;
}

/** "Retry now" on a delivery being cancelled: its webhook was turned off during an attempt. */
function cancellingError(why: CancelReason): HttpError {
  const what = why === 'webhook_deleted' ? 'deleted' : 'disabled';
  return new HttpError(409, 'cancelling', `the webhook of this delivery was ${what}: the attempt under way is finishing, then the delivery is cancelled; no more attempts`);
}

export class Dispatcher {
  private readonly queue = new DueQueue();
  /** id -> the instant its live queue entry is for. The dispatcher is the only writer. */
  private readonly expected = new Map<string, number>();
  private readonly inflight = new Set<Promise<void>>();
  /** Cancels left to run once an attempt under way is recorded (see cancelFor): an advance waits for them too. */
  private readonly cancelsAfter = new Set<Promise<void>>();
  /**
   * Deliveries those cancels are for (their attempt under way finishing), and the manual
   * attempts waiting for their lock: "Retry now" is refused at once, not after the attempt
   * (up to its timeout) it would only have been refused behind.
   */
  private readonly cancelling = new Map<string, CancelReason>();
  private readonly retriesWaiting = new Map<string, Set<(err: Error) => void>>();
  /** Resolves when something in flight finishes or a receiver frees up (see advance). */
  private settled: Promise<void> | null = null;
  private onSettled: (() => void) | null = null;
  private readonly locks = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  private advancing = 0;
  private lastNextDue: number | null = null;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private readonly offClock: () => void;
  /**
   * The instants the clock may not pass yet, besides the queue's head (see floor()): entries
   * started but not yet sent; for each scheduled attempt in flight, its delivery's next
   * planned instant (its follow-up is only scheduled once the answer is in); and every parked
   * entry. One multiset with its minimum, kept up to date as they come and go: the hold is
   * refreshed several times per attempt, and scanning everything in flight each time made
   * that O(attempts in flight).
   */
  private readonly unsent = new InstantSet();
  /** Per receiver: the instant its attempts now in flight were made at, and how many. */
  private readonly active = new Map<string, { at: number; n: number }>();
  /** Due entries waiting for their receiver (busy with an earlier instant), in order. */
  private readonly parked = new Map<string, DueEntry[]>();
  /** Manual and test attempts waiting for a receiver to free up. */
  private readonly freed = new Map<string, (() => void)[]>();
  /** Scheduled attempts in flight: delivery id -> attempt number (marked owed at a stop). */
  private readonly sending = new Map<string, number>();
  /**
   * The pending-delivery budget (MAX_PENDING_DELIVERIES): the deliveries pending now (read from
   * the store at start, then kept as the dispatcher, their only writer, saves them), and those
   * admitted but not made yet (`reserved`): a run's sync_end ones until its end (`owedAtEnd`),
   * a run's or test's first ones while they are being made.
   */
  private readonly pendingIds = new Map<string, number>();
  /** The pending deliveries' deadlines (ClockState.nextDeadlineAt: the first to give up). */
  private readonly deadlines = new InstantSet();
  private reserved = 0;
  private readonly owedAtEnd = new Map<string, Reservation>();
  /** Waits of persist() and faultGone() under way (see pause): a stop ends them. */
  private readonly retryWaits = new Set<() => void>();

  constructor(private readonly d: DispatcherDeps) {
    this.offClock = d.clock.onChange(() => {
      // Not awaited (a clock change is synchronous): a store that fails (Redis away) must not
      // reject unhandled, which would end the process; the next change writes it again, and
      // the store's fault shows in /api/health.
      d.store.setClock(d.clock.persisted()).catch(() => {});
      this.arm();
    });
  }

  // ------------------------------------------------------------------ lifecycle

  /** Load what is owed (pending deliveries, runs not ended) and arm the timer. */
  async start(): Promise<void> {
    // A clock nobody changed was never saved: saved now, anchored at this start. Else the next
    // start (after a crash, or on the instance taking over) made a clock anchored at its own
    // instant, past the attempts that fell due meanwhile: they went out late, back to back.
    if (!this.d.clock.wasSaved) {
      const save = () => this.d.store.setClock(this.d.clock.persisted());
      // Refused (the store away): tried again until it is taken, not left for the next change.
      await save().catch(() => void this.persist(save).catch((err: unknown) => this.d.onError?.(err)));
    }
    const hooks = await this.d.store.webhooks.list();
    const byId = new Map(hooks.map((h) => [h.id, h]));
    // A webhook deleted or disabled while the dispatcher did not run (the config file's
    // `prune` or `enabled: false` at start-up, a stop between the change and its cancelling):
    // what it still owed ends now, as the API's delete or disable would have ended it.
    const ended = new Set<string>();
    // Not now(): a read would stamp the clock there, and after downtime it must resume at the first owed attempt (see clock.ts).
    const now = this.d.clock.projected();
    const labels: Promise<void>[] = [];
    for (const del of await this.d.store.deliveries.query({ state: 'pending' })) {
      const wh = byId.get(del.webhookId);
      if (!wh || !wh.enabled) {
        ended.add(del.webhookId);
        continue;
      }
      labels.push(this.owe(del, now));
    }
    for (const id of ended) {
      // Read again: on Redis another instance may have re-enabled (or made again) the webhook
      // since the list was read; its deliveries are then owed after all.
      const wh = await this.d.store.webhooks.get(id);
      if (wh?.enabled) {
        for (const del of await this.d.store.deliveries.query({ state: 'pending', webhookId: id })) labels.push(this.owe(del, now));
        continue;
      }
      const end = cancelledAsFound(wh ?? null, 'when the dispatcher started');
      await this.cancelFor(id, end.endReason, end);
    }
    // All at once (on Redis, pipelined): one after another, thousands held the lease's renewal.
    await Promise.all(labels);
    for (const run of await this.d.store.runs.list()) {
      if (run.ended) continue;
      // Admitted before the stop: what its end will make is held for it again.
      this.owedAtEnd.set(run.id, this.reserve(deliveriesFor(hooks, { event: 'sync_end', status: run.outcome })));
      this.schedule({ at: Date.parse(run.endsAt), kind: 'run-end', id: run.id });
    }
    this.arm();
  }

  /**
   * A pending delivery found at start: owed again, its attempt scheduled. One due already fell
   * due while no dispatcher ran: a stop that could not say so (SIGKILL, a crash), or, on Redis,
   * the instance running it stopped answering and this one took over. It may have been in
   * flight there: said, as a stop's in-flight attempt is (see stop()).
   */
  private async owe(del: Delivery, now: number): Promise<void> {
    this.track(del);
    if (del.nextAttemptAt) this.schedule({ at: Date.parse(del.nextAttemptAt), kind: 'attempt', id: del.id, key: receiverKey(del.url) });
    if (!del.nextAttemptAt || Date.parse(del.nextAttemptAt) > now || del.nextReason === 'restart') return;
    const n = del.attempts.length + 1;
    const planned = del.nextReasonDetail ?? del.nextReason;
    const labelled: Delivery = {
      ...del,
      nextReason: 'restart',
      nextReasonDetail:
        `attempt ${n} was due at ${del.nextAttemptAt} while no dispatcher ran (the server down, or the instance running it stopped answering)${planned ? ` (planned: ${planned})` : ''}: ` +
        'made now; if it was in flight there, it may arrive twice (same webhook-id and attempt number)',
    };
    // Only words: a store that refuses writes now (Redis out of memory) must not stop the start.
    await this.d.store.deliveries.put(labelled).catch((err: unknown) => this.d.onError?.(err));
  }

  /**
   * Stop scheduling. Attempts in flight are not awaited and their answers are not recorded
   * (a stop resets the connections, which says nothing about the receiver): their delivery
   * still owes the attempt, so after a restart it is made again (at-least-once, same
   * webhook-id), and the delivery says why.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.offClock();
    this.wake();
    for (const w of this.retryWaits) w();
    this.retryWaits.clear();
    const owed = [...this.sending].map(async ([id, n]) => {
      const del = await this.d.store.deliveries.get(id);
      if (del?.state !== 'pending') return;
      await this.d.store.deliveries.put({
        ...del,
        nextReason: 'restart',
        nextReasonDetail: `attempt ${n} was in flight when the server stopped; it is made again after the restart`,
      });
    });
    this.stopping = Promise.all(owed).then(
      () => {},
      (err) => this.d.onError?.(err),
    );
    return this.stopping;
  }

  /**
   * The store steps waiting a fault out are tried again now (the lease is sure again after a
   * Redis outage: what was answered meanwhile is recorded first).
   */
  retryStoreNow(): void {
    for (const w of this.retryWaits) w();
    this.retryWaits.clear();
  }

  // ---------------------------------------------------------------------- clock

  clockState(): ClockState {
    const due = this.dueCeiling();
    const behindMs = this.d.clock.behind();
    const c = this.d.clock;
    return {
      now: iso(c.now()),
      scale: c.scale,
      paused: c.paused,
      nextDueAt: due === null ? null : iso(due),
      nextDeadlineAt: this.deadlines.size === 0 ? null : iso(this.deadlines.min()!),
      behindMs,
      lagging: !c.paused && behindMs > c.scale * LAGGING_REAL_MS,
    };
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
      const next = this.dueCeiling();
      target = next !== null ? Math.max(next, now) : now;
    } else {
      target = now + (input.ms ?? 0);
    }
    // The clock stops at the end of time (what is planned past it is written as it: see iso).
    target = Math.min(target, END_OF_TIME);
    this.advancing++;
    this.arm(); // disarms the real-time timer until the advance is done
    try {
      for (;;) {
        if (this.stopped) break; // shutting down: leave the rest owed, it resumes on start
        this.pump(target, 'advance');
        const next = this.peekValid();
        const more = (next !== undefined && next.at <= target) || this.parked.size > 0;
        if (this.inflight.size === 0 && this.cancelsAfter.size === 0 && !more) break;
        // Wait for an attempt to finish or a receiver to free up: either may let more start.
        // (One shared promise, not Promise.race over every attempt in flight: that costs a
        // reaction per attempt in flight, each time one finishes.)
        await (this.settled ??= new Promise<void>((r) => (this.onSettled = r)));
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
  private noteNextDue() {
    const at = this.dueCeiling();
    if (at === this.lastNextDue) return;
    this.lastNextDue = at;
    this.d.live.clockChanged(this.clockState());
  }

  // ------------------------------------------------------------------- events

  async fireRun(input: RunInput): Promise<Run> {
    // The whole run is admitted or none of it: its sync_start deliveries and, held until its
    // end, its sync_end ones, as the webhooks are now.
    const hooks = await this.d.store.webhooks.list();
    const outcome = input.outcome ?? 'SUCCESSFUL';
    const starts = deliveriesFor(hooks, { event: 'sync_start' });
    const ends = deliveriesFor(hooks, { event: 'sync_end', status: outcome });
    this.admit(starts + ends, 'This run');
    const first = this.reserve(starts);
    const last = this.reserve(ends);
    const now = this.d.clock.now();
    // Held here until its deliveries are queued (they hold it then): the store writes between
    // must not let the clock run past the event's instant, making its first attempts late.
    this.unsent.add(now);
    this.refreshHold();
    try {
      return await this.startRun(input, now, hooks, first, last);
    } catch (err) {
      // Not started after all (or its start not fully made: a restart admits its end again).
      this.unreserve(last);
      for (const [id, r] of this.owedAtEnd) if (r === last) this.owedAtEnd.delete(id);
      throw err;
    } finally {
      this.unreserve(first);
      this.unsent.remove(now);
      this.arm();
    }
  }

  /**
   * Refuse work that would make `n` deliveries past MAX_PENDING_DELIVERIES, having made none:
   * 503 with Retry-After (pending deliveries end as the clock reaches their attempts), or 409
   * when `n` alone is more than the budget (waiting cannot help).
   */
  private admit(n: number, what: string): void {
    const max = this.d.maxPending ?? Infinity;
    const held = this.pendingIds.size + this.reserved;
    if (n === 0 || held + n <= max) return;
    const makes = `${what} would make ${n} ${n === 1 ? 'delivery' : 'deliveries'}`;
    if (n > max) {
      throw new HttpError(409, TOO_MANY_PENDING, `${makes}, more than MAX_PENDING_DELIVERIES (${max}) allows pending at once; raise it, or subscribe fewer webhooks.`);
    }
    const owed = this.reserved ? ` (and ${this.reserved} more are owed by runs not ended yet)` : '';
    const paused = this.d.clock.paused ? ': the virtual clock is paused, so resume or advance it' : '';
    throw new HttpError(
      503,
      TOO_MANY_PENDING,
      `${makes}, but ${this.pendingIds.size} are pending${owed} of the ${max} MAX_PENDING_DELIVERIES allows. Nothing was made; retry later. Pending deliveries end as the clock reaches their attempts${paused}.`,
    );
  }

  private reserve(n: number): Reservation {
    this.reserved += n;
    return { left: n };
  }

  /** One reserved delivery was made (it counts as pending now). */
  private take(r: Reservation): void {
    if (r.left === 0) return;
    r.left--;
    this.reserved--;
  }

  /** What a reservation did not make is free again. */
  private unreserve(r: Reservation): void {
    this.reserved -= r.left;
    r.left = 0;
  }

  /** No longer count a delivery as pending (it is gone). */
  private untrack(id: string): void {
    const had = this.pendingIds.get(id);
    if (had === undefined) return;
    this.deadlines.remove(had);
    this.pendingIds.delete(id);
  }

  /** Count a delivery just written as pending, or no longer. */
  private track(del: Delivery): void {
    const had = this.pendingIds.get(del.id);
    if (had !== undefined) this.deadlines.remove(had);
    if (del.state === 'pending') {
      const deadline = Date.parse(del.createdAt) + del.schedule.deadlineMs;
      this.pendingIds.set(del.id, deadline);
      this.deadlines.add(deadline);
    } else this.pendingIds.delete(del.id);
  }

  private async startRun(input: RunInput, now: number, hooks: StoredWebhook[], first: Reservation, last: Reservation): Promise<Run> {
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
    this.owedAtEnd.set(run.id, last);
    this.d.live.runChanged(run);
    await this.emitEvent(syncStart(run, now), now, run.id, first, hooks);
    this.schedule({ at: Date.parse(run.endsAt), kind: 'run-end', id: run.id });
    return run;
  }

  /** The Test button: one `test` event, one attempt, now; answers its outcome. */
  async fireTest(webhookId: string): Promise<TestResult> {
    // Refused before its delivery is stored: one left pending would go out after a restart.
    this.storeTakesChanges();
    const wh = await this.d.store.webhooks.get(webhookId);
    if (!wh) throw new HttpError(404, 'not_found', 'webhook not found');
    this.admit(1, 'This test');
    const slot = this.reserve(1);
    let del: Delivery;
    try {
      const now = this.d.clock.now();
      del = this.newDelivery(await this.ourBin(wh.url), wh, testEvent(now, this.d.random), now, null, [now]);
      del.nextReason = 'test';
      del.nextReasonDetail = 'the Test button';
      await this.d.store.deliveries.put(del);
      this.track(del);
      this.take(slot);
    } finally {
      this.unreserve(slot);
    }
    let r: AttemptDone | null;
    try {
      r = await this.withLock(del.id, () => this.makeAttempt(del, wh, 'test', null));
    } catch (err) {
      // Refused (the store failing while it waited for the receiver) or not recorded: the caller
      // is told it failed, so it must not stay pending, to go out after a restart.
      this.untrack(del.id);
      await this.d.store.deliveries.delete(del.id).catch(() => {});
      throw err;
    }
    const done = r?.delivery ?? del;
    const last = done.attempts[done.attempts.length - 1];
    return { delivery: done, status: last?.status ?? null, error: last?.error ?? null, ok: last?.ok ?? false, durationMs: last?.durationMs ?? 0 };
  }

  /** One manual attempt now, outside the schedule. */
  async retryNow(deliveryId: string): Promise<Delivery> {
    // An API call: it does not wait behind an attempt that waits a store fault out (see persist).
    if (this.busyInFault(deliveryId)) throw new HttpError(503, 'storage_unavailable', "the store is failing: this delivery's last attempt waits for it to be recorded; retry in a few seconds");
    const cancelling = await this.beingCancelled(deliveryId);
    if (cancelling) throw cancellingError(cancelling);
    // Answered already (refused below): its turn makes no attempt, whatever the webhook is by then.
    let answered = false;
    // Its turn came: the attempt under way is its own, and the answer is that attempt's.
    let started = false;
    // The webhook is checked under the lock: it may change while we wait.
    const attempt = this.withLock(deliveryId, async () => {
      if (answered) return null;
      started = true;
      const del = await this.d.store.deliveries.get(deliveryId);
      if (!del) throw new HttpError(404, 'not_found', 'delivery not found');
      const wh = await this.d.store.webhooks.get(del.webhookId);
      if (!wh) throw new HttpError(409, 'webhook_deleted', 'the webhook of this delivery was deleted');
      if (!wh.enabled) throw new HttpError(409, 'webhook_disabled', 'the webhook of this delivery is disabled');
      return this.makeAttempt(del, wh, 'manual', null);
    });
    // Waiting behind an attempt under way when its webhook is turned off: refused then (the
    // turn, when it comes, finds the webhook off and makes no attempt).
    let refuse: (err: Error) => void = () => {};
    const refused = new Promise<never>((_, reject) => {
      refuse = (err) => {
        if (started) return;
        answered = true;
        reject(err);
      };
    });
    const waiting = this.retriesWaiting.get(deliveryId) ?? new Set();
    this.retriesWaiting.set(deliveryId, waiting.add(refuse));
    attempt.catch(() => {});
    const r = await Promise.race([attempt, refused]).finally(() => {
      waiting.delete(refuse);
      if (!waiting.size && this.retriesWaiting.get(deliveryId) === waiting) this.retriesWaiting.delete(deliveryId);
    });
    if (!r) throw new HttpError(503, 'stopping', 'the server is stopping');
    await this.applyDisable(r);
    return r.delivery;
  }

  /**
   * A webhook was disabled or deleted: its pending deliveries end, unattempted. One with an
   * attempt under way (or waiting a store fault out: see persist) is not waited for, as the
   * API call did, for up to the attempt's timeout (10 minutes at most): it ends in its lock's
   * turn once that attempt is recorded, before any other attempt of it can go (cancelled,
   * unless that attempt delivered it). Answers how many are left to end so.
   */
  async cancelFor(webhookId: string, reason: CancelReason, end: CancelEnd = reason === 'disabled' ? cancelledByBehavior('one of its behaviours turned it off') : cancelledByUser(reason)): Promise<number> {
    let later = 0;
    for (const del of await this.d.store.deliveries.query({ webhookId, state: 'pending' })) {
      if (!this.locks.has(del.id)) {
        await this.withLock(del.id, () => this.cancelOne(del.id, webhookId, end));
        continue;
      }
      later++;
      this.cancelling.set(del.id, end.endReason);
      for (const refuse of this.retriesWaiting.get(del.id) ?? []) refuse(cancellingError(end.endReason));
      // The dispatcher's own work from here: a store fault is waited out, as the attempt's was.
      const p: Promise<void> = this.withLock(del.id, () => this.persist(() => this.cancelOne(del.id, webhookId, end)))
        .catch((err: unknown) => {
          // Stopped: the next start (here or on another instance) finds the webhook off and ends it.
          if (!this.stopped) this.d.onError?.(err);
        })
        .finally(() => {
          this.cancelsAfter.delete(p);
          if (this.cancelling.get(del.id) === end.endReason) this.cancelling.delete(del.id);
          this.wake();
        });
      this.cancelsAfter.add(p);
    }
    this.refreshHold();
    return later;
  }

  /**
   * Waiting to be cancelled once its attempt under way is recorded, its webhook still off (one
   * disabled and turned on again meanwhile keeps the delivery: a retry then waits its turn).
   */
  private async beingCancelled(id: string): Promise<CancelReason | null> {
    const why = this.cancelling.get(id);
    if (why === undefined || why === 'webhook_deleted') return why ?? null;
    const del = await this.d.store.deliveries.get(id);
    return !del || !(await this.d.store.webhooks.get(del.webhookId))?.enabled ? why : null;
  }

  /** One pending delivery of a webhook turned off ends (under its lock). */
  private async cancelOne(id: string, webhookId: string, end: CancelEnd): Promise<void> {
    // Stopping: what it reads may be another dispatcher's to act on by now (its start ends it).
    if (this.stopped) return;
    const cur = await this.d.store.deliveries.get(id);
    if (cur?.state !== 'pending') return;
    // Turned on again while this waited for an attempt under way: what it owes stands.
    if (end.endReason !== 'webhook_deleted' && (await this.d.store.webhooks.get(webhookId))?.enabled) return;
    this.expected.delete(cur.id);
    await this.save({ ...cur, state: 'cancelled', nextAttemptAt: null, nextReason: null, nextReasonDetail: null, ...end });
    this.refreshHold();
  }

  // ----------------------------------------------------------------- internals

  /**
   * `slot`: what the event's deliveries were admitted with; `hooks`: the webhooks they were
   * counted from (a run's start), else read now (a webhook added since its start makes one more).
   */
  private async emitEvent(payload: PortablePayload, at: number, runId: string | null, slot: Reservation | null, hooks?: StoredWebhook[], ownWork = false) {
    // The dispatcher's own work (a run's end) waits a store fault out; an API call fails (503).
    const step = this.storeSteps(ownWork);
    hooks ??= await step(() => this.d.store.webhooks.list());
    for (const wh of hooks) {
      if (!wants(wh, payload)) continue;
      const schedule = resolveSchedule(this.d.schedule, wh.schedule);
      const seed = Math.floor(this.d.random() * 2 ** 32);
      const planned = planAttempts(schedule, seed, this.d.maxAttempts).map((o) => at + o);
      const del = this.newDelivery(await step(() => this.ourBin(wh.url)), wh, payload, at, runId, planned, schedule, seed);
      await step(() => this.save(del));
      if (slot) this.take(slot);
      this.schedule({ at, kind: 'attempt', id: del.id, key: receiverKey(del.url) });
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
      nextReason: 'first',
      nextReasonDetail: 'at the event',
      plannedAt: planned.map(iso),
      schedule,
      seed,
      attempts: [],
      endReason: null,
      endDetail: null,
      binId,
    };
  }

  /** The bin a URL points at, when it is one of ours that exists. */
  private async ourBin(url: string): Promise<string | null> {
    const id = binIdFromUrl(url);
    return id && (await this.d.store.bins.get(id)) ? id : null;
  }

  /**
   * A store step of the dispatcher's own work (a due attempt, a run's end), run until it goes
   * through: a store fault (Redis away or out of memory, a disk error) is waited out, retried
   * with waits doubling, never the step dropped. Dropped, a due attempt was made by nobody until
   * the next start, and the clock, no longer held at it, ran past; an attempt already sent but
   * not recorded was sent again. Rejects once stopped, or after HEALTHY_TRIES failures while
   * the store says it is healthy (the step itself is at fault: logged, as before).
   */
  private async persist<T>(step: () => Promise<T>): Promise<T> {
    let wait = this.d.storeRetryMs?.first ?? 250;
    const max = this.d.storeRetryMs?.max ?? 10_000;
    let healthyFailures = 0;
    for (;;) {
      try {
        return await step();
      } catch (err) {
        if (this.stopped || (this.d.store.health().fault === null && ++healthyFailures >= HEALTHY_TRIES)) throw err;
        this.d.onError?.(err);
        await this.pause(wait);
        if (this.stopped) throw err;
        wait = Math.min(wait * 2, max);
      }
    }
  }

  /** Throws while the store reports a fault: what is changed meanwhile may never be written. */
  private storeTakesChanges(): void {
    const fault = this.d.store.health().fault;
    if (fault) throw new StoreUnavailableError(fault.message);
  }

  /** How a flow runs its store steps: the dispatcher's own work waits faults out (persist); an API call's fails at once. */
  private storeSteps(ownWork: boolean): <T>(step: () => Promise<T>) => Promise<T> {
    return ownWork ? (step) => this.persist(step) : (step) => step();
  }

  private async save(del: Delivery) {
    await this.d.store.deliveries.put(del);
    this.track(del);
    this.d.live.deliveryChanged(del);
  }

  // ------------------------------------------------------------ queue and hold

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
    this.refreshHold();
  }

  /** The earliest instant started or waiting but not yet sent (null: none). */
  private floor(): number | null {
    return this.unsent.min();
  }

  /** The instant the clock may not pass: the earliest thing due and not yet sent. */
  private dueCeiling(): number | null {
    const f = this.floor();
    const head = this.peekValid()?.at ?? null;
    if (f === null) return head;
    return head === null || f < head ? f : head;
  }

  private refreshHold() {
    this.d.clock.hold(this.dueCeiling());
  }

  private busyAt(key: string, at: number): boolean {
    const a = this.active.get(key);
    return a !== undefined && a.at !== at;
  }

  private acquire(key: string, at: number) {
    const a = this.active.get(key);
    if (a) a.n++;
    else this.active.set(key, { at, n: 1 });
  }

  private release(key: string) {
    const a = this.active.get(key);
    if (!a || --a.n > 0) return;
    this.active.delete(key);
    // The receiver is free: entries waiting for it go back into the queue, in order.
    const list = this.parked.get(key);
    if (list) {
      this.parked.delete(key);
      for (const e of list) {
        this.unsent.remove(e.at);
        this.queue.push(e);
      }
    }
    const waiters = this.freed.get(key);
    if (waiters) {
      this.freed.delete(key);
      for (const w of waiters) w();
    }
    this.refreshHold();
    this.wake();
    this.arm();
  }

  /** The attempt's answer is in (or it was never sent): its receiver may take the next instant. */
  private releaseTicket(t: Ticket) {
    const key = t.key;
    t.key = null;
    if (key) this.release(key);
  }

  private wake() {
    const w = this.onSettled;
    this.settled = null;
    this.onSettled = null;
    w?.();
  }

  private setFollowUp(t: Ticket, at: number | null) {
    if (t.followUp !== null) this.unsent.remove(t.followUp);
    t.followUp = at;
    if (at !== null) this.unsent.add(at);
  }

  private markSent(t: Ticket) {
    if (t.sent) return;
    t.sent = true;
    this.unsent.remove(t.at);
    this.refreshHold();
    // Sent: the clock may move on, and later instants (for other receivers) may start.
    this.wake();
    this.arm();
  }

  /**
   * Start due entries, in time order, up to the concurrency limit and `limit` (the clock, or
   * an advance's target); does not wait for them. An entry for a receiver still busy with an
   * earlier instant waits (parked) without letting later instants overtake it.
   */
  private pump(limit: number, mode: 'advance' | 'realtime') {
    while (this.inflight.size < this.d.concurrency && !this.stopped) {
      const e = this.peekValid();
      if (!e || e.at > limit) break;
      const floor = this.floor();
      if (floor !== null && e.at > floor) break;
      this.queue.pop();
      if (e.key && this.busyAt(e.key, e.at)) {
        const list = this.parked.get(e.key);
        if (list) list.push(e);
        else this.parked.set(e.key, [e]);
        this.unsent.add(e.at);
        continue;
      }
      this.expected.delete(e.id);
      if (mode === 'advance') this.d.clock.jumpTo(e.at);
      this.begin(e);
    }
    this.refreshHold();
  }

  private begin(e: DueEntry) {
    const ticket: Ticket = { at: e.at, sent: false, key: e.key ?? null, followUp: null };
    this.unsent.add(e.at);
    if (ticket.key) this.acquire(ticket.key, e.at);
    const p: Promise<void> = this.runEntry(e, ticket)
      .catch((err) => this.d.onError?.(err))
      .finally(() => {
        this.setFollowUp(ticket, null);
        this.markSent(ticket);
        this.inflight.delete(p);
        this.releaseTicket(ticket);
        this.wake();
        this.arm();
      });
    this.inflight.add(p);
  }

  private async runEntry(e: DueEntry, ticket: Ticket) {
    if (e.kind === 'run-end') {
      // Its sync_end deliveries were admitted with the run: made now, whatever the budget.
      const owed = this.owedAtEnd.get(e.id) ?? null;
      this.owedAtEnd.delete(e.id);
      try {
        // Each step waits a store fault out (see persist): dropped, the run never ended.
        const run = await this.persist(() => this.d.store.runs.get(e.id));
        if (!run || run.ended) return;
        const ended = { ...run, ended: true };
        await this.persist(() => this.d.store.runs.put(ended));
        this.d.live.runChanged(ended);
        await this.emitEvent(syncEnd(ended, e.at), e.at, run.id, owed, undefined, true);
      } finally {
        if (owed) this.unreserve(owed);
      }
      return;
    }
    const r = await this.withLock(e.id, async () => {
      // The entry is the only note of this attempt in this process: a store fault is waited
      // out (the clock stays held at it), not the entry dropped (see persist).
      const del = await this.persist(() => this.d.store.deliveries.get(e.id));
      if (!del || del.state !== 'pending' || del.nextAttemptAt === null) return null;
      const wh = await this.persist(() => this.d.store.webhooks.get(del.webhookId));
      // Stopped meanwhile: what it read may be another dispatcher's to act on by now.
      if (this.stopped) return null;
      if (!wh || !wh.enabled) {
        const ended: Delivery = { ...del, state: 'cancelled', nextAttemptAt: null, nextReason: null, nextReasonDetail: null, ...cancelledAsFound(wh ?? null, 'when its attempt came due') };
        await this.persist(() => this.save(ended));
        return null;
      }
      return this.makeAttempt(del, wh, 'scheduled', ticket);
    });
    if (r) await this.applyDisable(r);
  }

  /** Arm the one timer for the earliest due entry (or run what is already due). */
  private arm() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // During an advance, that loop owns the queue: entries keep their planned times.
    if (this.stopped || this.advancing) return;
    this.pump(this.d.clock.now(), 'realtime');
    this.noteNextDue();
    const next = this.peekValid();
    if (!next || this.inflight.size >= this.d.concurrency) return; // a finished one re-arms
    // Not before what is started, parked or in flight (its follow-up): their end re-arms.
    const floor = this.floor();
    if (floor !== null && next.at > floor) return;
    const delay = this.d.clock.realDelayUntil(next.at);
    if (!Number.isFinite(delay)) return; // paused
    this.timer = setTimeout(() => {
      this.timer = null;
      this.arm();
    }, Math.min(Math.ceil(delay), 2 ** 31 - 1));
  }

  /** A delivery's lock is held while the store is faulted: likely an attempt waiting the fault out. */
  private busyInFault(id: string): boolean {
    return this.locks.has(id) && this.d.store.health().fault !== null;
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

  /**
   * Wait until a receiver has nothing in flight from another instant (manual and test). An API
   * call: while the store reports a fault it answers 503 rather than wait (the attempt holding
   * the receiver may be waiting the fault out before it sends).
   */
  private async receiverFree(key: string) {
    while (!this.stopped && this.busyAt(key, this.d.clock.now())) {
      this.storeTakesChanges();
      await new Promise<void>((r) => {
        const done = () => {
          clearTimeout(t);
          const list = this.freed.get(key);
          const i = list?.indexOf(done) ?? -1;
          if (i >= 0) list!.splice(i, 1);
          r();
        };
        // Looked at again now and then: a fault may begin while it waits.
        const t = setTimeout(done, FAULT_POLL_MS);
        const list = this.freed.get(key);
        if (list) list.push(done);
        else this.freed.set(key, [done]);
      });
    }
  }

  /**
   * Until the store reports no fault (a full disk): what is changed meanwhile may never be
   * written. Looked at every FAULT_POLL_MS (the store clears it itself once a write succeeds);
   * quiet (/api/health says it), and a stop ends it.
   */
  private async faultGone(): Promise<void> {
    while (!this.stopped && this.d.store.health().fault) await this.pause(FAULT_POLL_MS);
  }

  /** Wait `ms`, or less: a stop (or retryStoreNow) ends every such wait at once. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.retryWaits.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.retryWaits.add(done);
    });
  }

  // ------------------------------------------------------------------ attempts

  /**
   * One attempt of a delivery, recorded with the next step. A scheduled one (with its
   * ticket) goes at its planned instant, which the clock is held at; manual and test ones
   * go now. Answers null when the server stopped meanwhile (nothing is recorded).
   */
  private async makeAttempt(del: Delivery, wh: StoredWebhook, kind: AttemptKind, ticket: Ticket | null): Promise<AttemptDone | null> {
    const n = del.attempts.length + 1;
    const body = payloadBytes(del.payload);
    const key = receiverKey(del.url);
    if (!ticket) await this.receiverFree(key);
    if (this.stopped) return null;
    // A store fault (a full disk, Redis away) is waited out before sending too, not only when
    // recording: the lowdb store takes changes into memory meanwhile, and an attempt sent then,
    // lost with them at a stop, went out again after the restart. The clock stays held at a
    // scheduled one; a manual or test one answers 503. The lease is asked after the fault (it
    // may have moved on meanwhile: Redis away from this instance only), and the fault again
    // after the lease.
    do {
      if (kind === 'scheduled') await this.faultGone();
      else this.storeTakesChanges();
      if (this.stopped) return null;
      if (this.d.beforeSend) {
        const sure = this.d.beforeSend();
        // "Retry now" is an API call: it answers 503 rather than wait for the lease without end
        // (Redis refusing the lease's beat while it answers reads: out of memory, say).
        if (kind === 'manual') await withinOrUnsure(sure, this.d.sureWaitMs ?? 5000);
        else await sure;
        if (this.stopped) return null;
      }
    } while (this.d.store.health().fault);
    const at = ticket ? Math.max(ticket.at, this.d.clock.now()) : this.d.clock.now();
    // Wall time, not virtual: Standard Webhooks verifiers reject timestamps outside a few
    // minutes of their clock, and a fast-forwarded clock would be hours ahead.
    const ts = Math.floor(this.d.realNow() / 1000);
    const atIso = plannedIso(del.plannedAt, at);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': this.d.userAgent,
      'webhook-id': del.webhookMessageId,
      'webhook-timestamp': String(ts),
      'x-hooklab-attempt': String(n),
      'x-hooklab-delivery': del.id,
      'x-hooklab-event': del.event,
      'x-hooklab-virtual-time': atIso,
    };
    // No secret, nothing signed (a webhook saved before that rule may still hold an old secret).
    const signature = wh.secret ? signatureHeader([wh.secret, wh.previousSecret], del.webhookMessageId, ts, body) : null;
    if (signature) headers['webhook-signature'] = signature;
    const why = kind === 'manual' ? { reason: 'manual' as const, detail: 'Retry now' } : { reason: del.nextReason ?? (n === 1 ? 'first' : 'schedule'), detail: del.nextReasonDetail ?? null };
    if (!ticket) this.acquire(key, at);
    else {
      this.sending.set(del.id, n);
      this.setFollowUp(ticket, nextPlannedAfter(del, at));
    }
    let res: SendResult;
    try {
      const sent = this.d.send({ url: del.url, headers, body, timeoutMs: wh.timeoutMs ?? this.d.timeoutMs });
      if (ticket) this.markSent(ticket);
      res = await sent;
    } finally {
      // Released as soon as the answer is in, not when the delivery is saved: what follows
      // (a disable cancelling other deliveries) takes locks a manual attempt may hold while
      // it waits for this receiver.
      if (!ticket) this.release(key);
      else {
        this.sending.delete(del.id);
        this.releaseTicket(ticket);
      }
    }
    if (this.stopped) return null; // not recorded: the attempt is still owed (see stop)

    const redirect = res.status !== null && res.status >= 300 && res.status < 400;
    const ok = isSuccess(res, wh.successPolicy ?? '200');
    // Sent: from here a scheduled attempt waits a store fault out (see persist). Unrecorded,
    // it would be made again by whoever runs the dispatcher next: the receiver would get it
    // twice. A manual or test one is an API call: it answers 503 at once, as before.
    const keep = this.storeSteps(kind === 'scheduled');
    const capturedRequestId = await keep(() => this.capturedId(del, res, n));
    const attempt: Attempt = {
      n,
      plannedAt: kind === 'scheduled' ? del.nextAttemptAt! : atIso,
      sentAt: atIso,
      status: res.status,
      error: res.error ?? (redirect ? 'redirect' : null),
      errorDetail: res.errorDetail ?? (redirect ? `redirect to ${headerValue(res.headers, 'location') ?? '(no location)'} not followed` : null),
      ok,
      durationMs: res.durationMs,
      requestHeaders: Object.entries(headers),
      // Kept with the delivery: the repeated strings of its answers shared (see lib/intern.ts).
      responseHeaders: internPairs(res.headers),
      responseBody: res.body,
      responseBodyTruncated: res.bodyTruncated,
      manual: kind === 'manual',
      capturedRequestId,
      reason: why.reason,
      reasonDetail: why.detail,
      planUse: capturedRequestId && del.binId ? await keep(() => planUseOf(this.d.store.requests, del.binId!, capturedRequestId, del.id)) : null,
    };

    // Re-read: a cancel may have landed while the request was in flight.
    const cur = (await keep(() => this.d.store.deliveries.get(del.id))) ?? del;
    const behaviors = wh.behaviors ?? {};
    const step = decideNext(cur, { kind, n, sentAt: at, ok, status: res.status, headers: res.headers }, behaviors, this.d.realNow(), planMs(cur.plannedAt));
    const plannedAt = samePlan(step.plannedAt, cur.plannedAt) ? cur.plannedAt : step.plannedAt.map(iso);
    const next: Delivery = {
      ...cur,
      attempts: [...cur.attempts, attempt],
      state: step.state,
      nextAttemptAt: step.nextAttemptAt === null ? null : plannedIso(plannedAt, step.nextAttemptAt),
      plannedAt,
      nextReason: step.nextReason,
      nextReasonDetail: step.nextReasonDetail,
      endReason: step.endReason,
      endDetail: step.endDetail,
    };
    if (this.stopped) return null;
    await keep(() => this.save(next));
    if (next.state === 'pending' && step.nextAttemptAt !== null && kind === 'scheduled') this.schedule({ at: step.nextAttemptAt, kind: 'attempt', id: next.id, key });
    if (ticket) {
      this.setFollowUp(ticket, null);
      this.refreshHold();
    }

    let disable: AttemptDone['disable'] = step.gone ? { reason: 'gone', detail: step.endDetail ?? `attempt ${n} got 410 Gone`, at } : null;
    if (kind !== 'test') {
      const endedUndelivered = cur.state === 'pending' && next.state === 'failed';
      // Not retried: a write that went through but whose answer was lost would count twice.
      // Failed, the streak misses this attempt; a 410's disable still goes ahead.
      const verdict = await this.noteStreak(wh.id, ok, at, endedUndelivered).catch((err: unknown) => {
        this.d.onError?.(err);
        return null;
      });
      if (!disable && verdict) disable = { reason: 'failing', detail: verdict, at };
    }
    return { delivery: next, disable };
  }

  /** Update the webhook's failure streak; answers why it must be disabled now, if it must. */
  private noteStreak(webhookId: string, ok: boolean, at: number, endedUndelivered: boolean): Promise<string | null> {
    return this.webhookTurn(webhookId, async () => {
      const wh = await this.d.store.webhooks.get(webhookId);
      if (!wh) return null;
      const before = wh.failing ?? null;
      const after = streakAfterDeliveryEnd(streakAfterAttempt(before, ok, at), endedUndelivered);
      if (after !== before) {
        const next = { ...wh, failing: after };
        await this.d.store.webhooks.put(next);
        // The console shows the streak on the webhook's card: told as it changes.
        this.d.live.webhookChanged(webhookView(next, { schedule: this.d.schedule, maxAttempts: this.d.maxAttempts ?? MAX_ATTEMPTS }));
      }
      return wh.enabled ? disableVerdict(after, wh.behaviors ?? {}, at) : null;
    });
  }

  private webhookTurn<T>(webhookId: string, change: () => Promise<T>): Promise<T> {
    return this.d.webhookTurn ? this.d.webhookTurn(webhookId, change) : change();
  }

  /**
   * A behaviour turned the webhook off: say why on it, tell the UI, cancel what it still
   * owes. Outside the delivery's lock: cancelling takes the other deliveries' locks.
   */
  private async applyDisable(r: AttemptDone) {
    const disable = r.disable;
    if (!disable || this.stopped) return;
    const next = await this.webhookTurn(r.delivery.webhookId, async () => {
      const wh = await this.d.store.webhooks.get(r.delivery.webhookId);
      if (!wh || !wh.enabled) return null;
      const off: StoredWebhook = {
        ...wh,
        enabled: false,
        disabledBy: { reason: disable.reason, at: iso(disable.at), deliveryId: r.delivery.id, detail: disable.detail },
        updatedAt: iso(this.d.realNow()),
      };
      await this.d.store.webhooks.put(off);
      // Told in its turn: a streak's change told after it carries it (told outside, this one
      // could come after a newer streak and show the older).
      this.d.live.webhookChanged(webhookView(off, { schedule: this.d.schedule, maxAttempts: this.d.maxAttempts ?? MAX_ATTEMPTS }));
      return off;
    });
    if (!next) return;
    await this.cancelFor(next.id, 'disabled', cancelledByBehavior(disable.detail));
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

// Per-attempt work that does not change between a delivery's attempts is done once. Records
// are immutable and a new version shares what did not change (`{ ...cur, attempts }` keeps the
// same payload object and plannedAt array), so these caches are keyed by those objects, weakly:
// an entry goes when the delivery version holding it does.
const bodies = new WeakMap<object, Buffer>();
const plans = new WeakMap<readonly string[], number[]>();

/** The body of every attempt of a delivery: its payload as JSON (never mutated by a sender). */
function payloadBytes(payload: object): Buffer {
  let b = bodies.get(payload);
  // Its own buffer, not a view of Node's pool: kept for the delivery's life, and posted to the
  // sender thread with every attempt (see ownBytes).
  if (!b) bodies.set(payload, (b = ownBytes(Buffer.from(JSON.stringify(payload)))));
  return b;
}

/** A delivery's plan in ms (parsed once per plan, not per attempt). */
function planMs(plannedAt: readonly string[]): number[] {
  let p = plans.get(plannedAt);
  if (!p) plans.set(plannedAt, (p = plannedAt.map(Date.parse)));
  return p;
}

/** Instant `ms` as the plan's own string when it is one of the plan's instants (no formatting per attempt). */
function plannedIso(plannedAt: readonly string[], ms: number): string {
  const plan = planMs(plannedAt);
  for (let i = 0; i < plan.length; i++) if (plan[i] === ms) return plannedAt[i];
  return iso(ms);
}

function samePlan(a: readonly number[], b: readonly string[]): boolean {
  const bm = planMs(b);
  if (a === bm) return true;
  if (a.length !== bm.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== bm[i]) return false;
  return true;
}

/** The first planned instant after `at` still ahead of this delivery (its next attempt's earliest). */
function nextPlannedAfter(del: Delivery, at: number): number | null {
  let from = 1;
  for (const a of del.attempts) if (!a.manual) from++;
  const plan = planMs(del.plannedAt);
  for (let i = from; i < plan.length; i++) if (plan[i] > at) return plan[i];
  return null;
}

/** `p`, or a 503 once `ms` have passed without it (nothing was sent or recorded then). */
function withinOrUnsure(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HttpError(503, 'dispatcher_unsure', 'the dispatcher cannot tell yet that it still runs here (its lease in Redis could not be renewed); nothing was sent: retry in a few seconds')),
      ms,
    );
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
