// Why a delivery was cancelled, in words (its endDetail), naming who turned its webhook off as
// far as the dispatcher can tell: a user (the API, the console, another instance's API, the
// config file), or hooklab itself (a 410 or a failure streak: `disabledBy` says so).
import type { StoredWebhook } from '../store/types.ts';
import type { CancelReason } from './dispatcher-api.ts';

export interface CancelEnd {
  endReason: CancelReason;
  endDetail: string;
}

/** A user's disable or delete through the API (the console calls it too). */
export function cancelledByUser(reason: 'webhook_disabled' | 'webhook_deleted'): CancelEnd {
  const what = reason === 'webhook_deleted' ? 'deleted' : 'disabled';
  return { endReason: reason, endDetail: `the webhook was ${what} through the API or the console while this delivery was pending: no more attempts` };
}

/** A behaviour disabled the webhook (disableOn410, disableAfterDays, disableAfterDeliveries). */
export function cancelledByBehavior(detail: string): CancelEnd {
  return { endReason: 'disabled', endDetail: `the webhook was disabled: ${detail}` };
}

/**
 * The webhook found off (or gone) when the delivery's work came up: at start-up, or at an
 * attempt's turn (a change the dispatcher was not told of in time). `when` says which.
 */
export function cancelledAsFound(wh: StoredWebhook | null, when: string): CancelEnd {
  if (!wh) return { endReason: 'webhook_deleted', endDetail: `the webhook was deleted (through the API, the console or the config file's prune), found ${when}: no more attempts` };
  if (wh.disabledBy) return cancelledByBehavior(wh.disabledBy.detail);
  return { endReason: 'webhook_disabled', endDetail: `the webhook was disabled (through the API, the console or the config file's "enabled": false), found ${when}: no more attempts` };
}
