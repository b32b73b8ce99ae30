// What the API asks of the dispatcher. One process: the Dispatcher itself. Several instances
// on Redis: ClusterDispatcher (cluster/cluster-dispatcher.ts), which hands each call to the
// instance that holds the dispatcher's lease.
import type { AdvanceInput, ClockInput, ClockState, Delivery, Run, RunInput, TestResult } from '../../shared/api.ts';

export type CancelReason = 'webhook_disabled' | 'webhook_deleted' | 'disabled';

export interface DispatcherApi {
  clockState(): ClockState | Promise<ClockState>;
  setClock(input: ClockInput): ClockState | Promise<ClockState>;
  advance(input: AdvanceInput): Promise<ClockState>;
  fireRun(input: RunInput): Promise<Run>;
  fireTest(webhookId: string): Promise<TestResult>;
  retryNow(deliveryId: string): Promise<Delivery>;
  /**
   * A webhook was disabled or deleted: its pending deliveries end. Answers at once, with how
   * many are left to end once their attempt under way is recorded (null: another instance's
   * dispatcher ends them, and this one cannot tell).
   */
  cancelFor(webhookId: string, reason: CancelReason): Promise<number | null>;
}
