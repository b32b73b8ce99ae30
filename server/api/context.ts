// What every API router gets. Built once by createApp; no globals.
import type { Config } from '../config.ts';
import type { Control } from '../control/control.ts';
import type { DispatcherApi } from '../dispatch/dispatcher-api.ts';
import type { LiveBus } from '../live/bus.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import type { RateLimiter } from '../capture/rate-limit.ts';
import type { RequestWaiters } from '../capture/waiters.ts';
import type { DeliveryWaiters } from '../dispatch/delivery-waiters.ts';
import type { KeyedSlots } from '../lib/keyed-slots.ts';
import type { Forwarder } from '../forward/forwarder.ts';
import type { ReplayJobs } from '../forward/replay-jobs.ts';
import type { BinAttempts } from '../verify/bin-attempts.ts';
import type { OutboundPolicy } from '../net/outbound-policy.ts';
import type { Verifier } from '../verify/service.ts';
import type { SettingsWrites } from './settings-writes.ts';
import type { SearchTurns } from '../capture/search-turns.ts';

export interface ApiContext {
  config: Config;
  store: Store;
  control: Control;
  dispatcher: DispatcherApi;
  live: LiveBus;
  rateLimiter: RateLimiter | null;
  /** The wait API's waiters: captures, and deliveries reaching a state. */
  waiters: RequestWaiters;
  deliveryWaiters: DeliveryWaiters;
  /** Slots for both kinds of waiter (WAIT_MAX_WAITERS, WAIT_MAX_WAITERS_PER_IP). */
  /** The wait API's slots (see wait-budget.ts). */
  waitBudget: KeyedSlots;
  /** Settings writes (If-Match checked, then stored) one at a time per resource. */
  settingsWrites: SettingsWrites;
  /** Body searches take turns, one slice at a time (see capture/search-turns.ts). */
  searchTurns: SearchTurns;
  forwarder: Forwarder;
  /** Bulk replay jobs: run here, kept in the store. */
  replays: ReplayJobs;
  verifier: Verifier;
  binAttempts: BinAttempts;
  /** Where outbound calls may go (DISPATCH_ALLOW and the rest): a webhook's URL is checked when saved. */
  outbound: OutboundPolicy;
  now: () => number;
  /** The receiver's capture ids ('' on Redis: the store assigns them): imports take theirs from it too. */
  newRequestId: () => string;
  log: Logger;
}
