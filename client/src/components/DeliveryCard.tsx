import { memo } from '../lib/memo.ts';
import { useState } from 'preact/hooks';
import type { Attempt, Delivery } from '../../../shared/api.ts';
import { api, errorMessage } from '../lib/api.ts';
import { formatDuration, formatWhen } from '../lib/format.ts';
import { Link, paths } from '../lib/router.ts';
import { deliveryMarks } from '../lib/timeline.ts';
import { AttemptDetail } from './AttemptDetail.tsx';
import { Timeline } from './Timeline.tsx';

const STATE_TONE = { pending: 'info', delivered: 'ok', failed: 'bad', cancelled: 'muted' } as const;
const EVENT_LABEL = { sync_start: 'flow started', sync_end: 'flow ended', test: 'test' } as const;

interface Props {
  d: Delivery;
  /** Virtual now (ms), rounded so the card re-renders only when the minute moves at speed. */
  now: number;
  signed: boolean | null;
}

export const DeliveryCard = memo(function DeliveryCard({ d, now, signed }: Props) {
  const [selected, setSelected] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const marks = deliveryMarks(d);
  const created = Date.parse(d.createdAt);
  const deadlineAt = created + d.schedule.deadlineMs;
  const attempt: Attempt | undefined = selected !== null ? d.attempts.find((a) => a.n === selected) : undefined;
  const outcome = d.payload.status ? ` (${d.payload.status === 'SUCCESSFUL' ? 'succeeded' : 'failed'})` : '';
  const retry = async () => {
    setError(null);
    try {
      await api.retryDelivery(d.id);
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <li class="card delivery" data-delivery-id={d.id} data-state={d.state} data-testid="delivery">
      <div class="delivery-head">
        <span class={`badge tone-${STATE_TONE[d.state]}`} data-testid="delivery-state">
          {d.state}
        </span>
        <strong>
          {EVENT_LABEL[d.event]}
          {outcome}
        </strong>
        <span class="muted">→ {d.webhookName}</span>
        {d.binId && (
          <Link href={paths.bin(d.binId)} class="small">
            bin
          </Link>
        )}
        <span class="spacer" />
        <span class="muted small">
          {d.attempts.length} attempt{d.attempts.length === 1 ? '' : 's'} · event at {formatWhen(d.createdAt, now, false)}
        </span>
      </div>
      <Timeline
        deadlineMs={marks.deadlineMs}
        attempts={marks.attempts}
        planned={marks.planned}
        nowT={d.state === 'pending' ? now - created : null}
        createdAt={d.createdAt}
        selectedN={selected}
        onSelect={(a) => setSelected(selected === a.n ? null : a.n)}
        label={`Attempts of the ${EVENT_LABEL[d.event]} delivery to ${d.webhookName}`}
      />
      <div class="delivery-foot muted small">
        {d.state === 'pending' && d.nextAttemptAt && <span>Next attempt {formatRelative(Date.parse(d.nextAttemptAt), now)}</span>}
        {d.state === 'pending' && <span>Deadline {formatRelative(deadlineAt, now)}</span>}
        {d.state !== 'pending' && <span>Ended: {d.endReason ?? d.state}</span>}
        <span class="spacer" />
        {d.state !== 'cancelled' && d.event !== 'test' && (
          <button type="button" class="btn btn-small" onClick={retry} title="Send one attempt now, outside the schedule">
            Retry now
          </button>
        )}
      </div>
      {error && (
        <p class="notice notice-bad" role="alert">
          {error}
        </p>
      )}
      {attempt && <AttemptDetail d={d} a={attempt} signed={signed} />}
    </li>
  );
});

function formatRelative(t: number, now: number): string {
  const diff = t - now;
  if (Math.abs(diff) < 1000) return 'now';
  return diff > 0 ? `in ${formatDuration(diff)}` : `${formatDuration(-diff)} ago`;
}
