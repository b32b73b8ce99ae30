import { memo } from '../lib/memo.ts';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Attempt, Delivery } from '../../../shared/api.ts';
import { api } from '../lib/api.ts';
import { useError } from '../lib/use-error.ts';
import { formatDuration, formatWhen } from '../lib/format.ts';
import { Link, paths } from '../lib/router.ts';
import { END_LABEL, REASON_LABEL, deliveryMarks } from '../lib/timeline.ts';
import { AttemptDetail } from './AttemptDetail.tsx';
import { AttemptTable } from './AttemptTable.tsx';
import { Timeline } from './Timeline.tsx';

const STATE_TONE = { pending: 'info', delivered: 'ok', failed: 'bad', cancelled: 'muted' } as const;
const EVENT_LABEL = { sync_start: 'flow started', sync_end: 'flow ended', test: 'test' } as const;

interface Props {
  d: Delivery;
  /** Virtual now (ms): the same instant the clock shows, so countdowns agree with it. */
  now: number;
  signed: boolean | null;
  /** Its webhook: on, turned off (disabled or deleted), or not known yet (the list still loading). */
  hook: 'on' | 'off' | null;
}

export const DeliveryCard = memo(function DeliveryCard({ d, now, signed, hook }: Props) {
  const [selected, setSelected] = useState<number | null>(null);
  const [error, setError] = useError();
  const select = useCallback((n: number) => setSelected((cur) => (cur === n ? null : n)), []);
  const card = useRef<HTMLLIElement>(null);
  // The detail opens under the attempt table, often below the fold: bring it into view.
  useEffect(() => {
    const el = selected === null ? null : card.current?.querySelector<HTMLElement>('[data-testid="attempt-detail"]');
    if (!el) return;
    el.style.scrollMarginTop = `${coveredTop(el) + 8}px`;
    el.scrollIntoView({ block: 'nearest', behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
  }, [selected]);
  const marks = deliveryMarks(d);
  const created = Date.parse(d.createdAt);
  const deadlineAt = created + d.schedule.deadlineMs;
  const attempt: Attempt | undefined = selected !== null ? d.attempts.find((a) => a.n === selected) : undefined;
  const outcome = d.payload.status ? ` (${d.payload.status === 'SUCCESSFUL' ? 'succeeded' : 'failed'})` : '';
  // Still pending with its webhook off: the server cancelled the others at once; this one ends
  // once its attempt under way is recorded, and gets no other.
  const cancelling = d.state === 'pending' && hook === 'off';
  const nextAt = d.state === 'pending' && d.nextAttemptAt && !cancelling ? Date.parse(d.nextAttemptAt) : null;
  const retry = async () => {
    setError(null);
    try {
      await api.retryDelivery(d.id);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <li ref={card} class="card delivery" data-delivery-id={d.id} data-state={d.state} data-testid="delivery">
      <div class="delivery-head">
        <span class={`badge tone-${STATE_TONE[d.state]}`} data-testid="delivery-state">
          {d.state}
        </span>
        {cancelling && <span class="badge tone-warn">cancelling</span>}
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
        {d.schedule.preset && d.schedule.preset !== 'portable' && <span class="badge tone-muted small">{d.schedule.preset}</span>}
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
        onSelect={(a) => select(a.n)}
        label={`Attempts of the ${EVENT_LABEL[d.event]} delivery to ${d.webhookName}`}
      />
      <AttemptTable d={d} onSelect={select} />
      <div class="delivery-foot muted small">
        {nextAt !== null && (
          <span data-testid="next-attempt" data-next-in={Math.round(nextAt - now)} title={d.nextReasonDetail ?? undefined}>
            Next attempt {formatRelative(nextAt, now)}
            {d.nextReason && d.nextReason !== 'first' ? ` (${REASON_LABEL[d.nextReason]}${d.nextReasonDetail ? `: ${d.nextReasonDetail}` : ''})` : ''}
          </span>
        )}
        {cancelling && <span data-testid="delivery-cancelling">Cancelling: the attempt under way is finishing; no more attempts</span>}
        {d.state === 'pending' && !cancelling && (
          <span data-testid="deadline-in" data-deadline-in={Math.round(deadlineAt - now)}>
            Deadline {formatRelative(deadlineAt, now)}
          </span>
        )}
        {d.state !== 'pending' && (
          <span data-testid="ended">
            Ended: {END_LABEL[d.endReason ?? ''] ?? d.endReason ?? d.state}
            {d.endDetail ? ` (${d.endDetail})` : ''}
          </span>
        )}
        <span class="spacer" />
        <span class="exports">
          Export{' '}
          <a href={api.timelineUrl('deliveries', d.id, 'json')} download={`delivery-${d.id}-timeline.json`} data-testid="export-json">
            JSON
          </a>{' '}
          <a href={api.timelineUrl('deliveries', d.id, 'csv')} download={`delivery-${d.id}-timeline.csv`} data-testid="export-csv">
            CSV
          </a>
        </span>
        {/* A webhook turned off takes no attempts: the server would refuse (409). */}
        {d.state !== 'cancelled' && d.event !== 'test' && hook !== 'off' && (
          <button type="button" class="btn btn-small" onClick={retry} title="Send one attempt now, outside the schedule" data-testid="retry-now">
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

/**
 * How much of the top of its scroller sticky things cover where the detail lands: the clock
 * card (sticky in the deliveries column, or under the app bar when the page is one column).
 */
function coveredTop(el: HTMLElement): number {
  const clock = el.closest('.dispatcher')?.querySelector<HTMLElement>('.clock');
  if (!clock) return 0;
  const style = getComputedStyle(clock);
  if (style.position !== 'sticky') return 0;
  return (parseFloat(style.top) || 0) + clock.offsetHeight;
}

function formatRelative(t: number, now: number): string {
  const diff = t - now;
  if (Math.abs(diff) < 1000) return 'now';
  return diff > 0 ? `in ${formatDuration(diff)}` : `${formatDuration(-diff)} ago`;
}
