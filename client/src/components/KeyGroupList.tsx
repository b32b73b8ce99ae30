// The bin's captures grouped by the sender's idempotency key ("By key" next to the list): one
// row per key, the most recently retried first, with how many attempts it had, when the first
// and the latest arrived, the latest one's answer and signature (when that capture is loaded
// in the list anyway), and a flag on keys whose body also arrived under another key (the
// sender gives a retry a new key: receivers cannot de-duplicate it). A row opens the key's
// captures as the list ("attempt n of m"). Virtualised like the request list: a bin of
// thousands of keys keeps only the rows in view in the DOM. Refreshed as captures arrive.
import { useViewHeight } from '../lib/use-view-height.ts';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { RequestItem } from '../../../shared/api.ts';
import { type KeyGroupRow, attemptsText, churnSummary, churnTitle, findById, groupsSummary, keyGroupRows, noKeyText } from '../lib/key-groups.ts';
import { memo } from '../lib/memo.ts';
import { filterSearch, shortKey } from '../lib/request-filter.ts';
import { Link, paths } from '../lib/router.ts';
import { useKeyGroups } from '../lib/use-key-groups.ts';
import { RelTime } from './RelTime.tsx';
import { SignatureBadge } from './SignatureBadge.tsx';
import { StatusBadge } from './StatusBadge.tsx';

export const KEY_ROW_HEIGHT = 56;
const OVERSCAN = 6;
/** Bodies listed under the key-churn sentence; the rest are counted. */
const CHURN_SHOWN = 20;

interface Props {
  binId: string;
  /** The bin page's loaded captures, newest first: the latest attempt's badges come from here. */
  list: RequestItem[];
}

const keyPath = (binId: string, key: string) => paths.bin(binId) + filterSearch({ key });

export function KeyGroupList({ binId, list }: Props) {
  const g = useKeyGroups(binId, true);
  const rows = useMemo(() => (g.answer ? keyGroupRows(g.answer) : []), [g.answer]);
  const noKey = g.answer ? g.answer.unkeyed : null;
  const churn = g.answer ? churnSummary(g.answer.keyChurn) : null;

  return (
    <section class="key-groups" aria-labelledby="key-groups-title" data-testid="key-groups" data-loading={g.loading ? 'true' : undefined}>
      <div class="key-groups-head">
        <h2 id="key-groups-title" class="small-h">
          Captures by idempotency key
        </h2>
        {g.error && (
          <p class="notice notice-bad small" role="alert" data-testid="key-groups-error">
            Could not load the keys: {g.error}
          </p>
        )}
        {g.answer && rows.length > 0 && (
          <p class="muted small" data-testid="key-groups-summary">
            {groupsSummary(g.answer)}; the most recently retried first.
          </p>
        )}
        {g.answer && churn && (
          <div class="notice notice-warn small" data-testid="key-churn-summary">
            <p class="key-churn-line">
              <strong>New key on retry.</strong> {churn}
            </p>
            <details class="key-churn-more">
              <summary>Which keys</summary>
              <ul class="plain" data-testid="key-churn-list">
                {g.answer.keyChurn.slice(0, CHURN_SHOWN).map((c) => (
                  <li key={c.bodySha256}>
                    {c.ids.length.toLocaleString('en-US')} captures of one body under{' '}
                    {c.keys.map((k, i) => (
                      <span key={k}>
                        {i > 0 && ', '}
                        <Link href={keyPath(binId, k)} title={`Idempotency key ${k}`}>
                          {shortKey(k, 24)}
                        </Link>
                      </span>
                    ))}
                  </li>
                ))}
              </ul>
              {g.answer.keyChurn.length > CHURN_SHOWN && <p class="muted">and {(g.answer.keyChurn.length - CHURN_SHOWN).toLocaleString('en-US')} more bodies.</p>}
            </details>
          </div>
        )}
        {noKey !== null && noKey > 0 && (
          <p class="muted small" data-testid="no-key-count" data-count={noKey}>
            {noKeyText(noKey)}.
          </p>
        )}
      </div>
      {g.loading ? (
        <p class="muted key-groups-note">Loading…</p>
      ) : g.answer && rows.length === 0 ? (
        <div class="key-groups-note" data-testid="key-groups-empty">
          <p>
            <strong>No capture here carries an idempotency key yet.</strong>
          </p>
          <p class="muted small">
            Keys come from the <code>webhook-id</code>, <code>svix-id</code>, <code>X-GitHub-Delivery</code> or <code>X-Shopify-Webhook-Id</code> header, a Stripe event's <code>id</code> in the body, or
            a header or JSON field you name under <Link href={paths.verify(binId)}>Signatures</Link>. Retries that keep their key show up here as one row with
            its attempts.
          </p>
        </div>
      ) : (
        <GroupRows binId={binId} rows={rows} list={list} />
      )}
    </section>
  );
}

function GroupRows({ binId, rows, list }: { binId: string; rows: KeyGroupRow[]; list: RequestItem[] }) {
  const scroller = useRef<HTMLDivElement>(null);
  const viewH = useViewHeight(scroller);
  const [scrollTop, setScrollTop] = useState(0);
  const frame = useRef(0);
  /** A row the keyboard moved to, focused once it is rendered. */
  const focusWant = useRef<number | null>(null);
  const [focusTick, setFocusTick] = useState(0);

  const onScroll = useCallback(() => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      if (scroller.current) setScrollTop(scroller.current.scrollTop);
    });
  }, []);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  const n = rows.length;
  const first = Math.max(0, Math.floor(scrollTop / KEY_ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(n, Math.ceil((scrollTop + viewH) / KEY_ROW_HEIGHT) + OVERSCAN);

  useLayoutEffect(() => {
    const i = focusWant.current;
    if (i === null) return;
    const a = scroller.current?.querySelector<HTMLElement>(`[data-index="${i}"] a`);
    if (a) {
      focusWant.current = null;
      a.focus({ preventScroll: true });
    }
  }, [focusTick, first, last]);

  // Arrow keys, Page Up/Down, Home and End move between the rows' links.
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || n === 0) return;
    const at = (e.target as HTMLElement).closest<HTMLElement>('[data-index]');
    if (!at) return;
    const cur = Number(at.dataset.index);
    const page = Math.max(1, Math.floor(viewH / KEY_ROW_HEIGHT) - 1);
    const next =
      e.key === 'ArrowDown' ? cur + 1 : e.key === 'ArrowUp' ? cur - 1 : e.key === 'PageDown' ? cur + page : e.key === 'PageUp' ? cur - page : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : null;
    if (next === null) return;
    e.preventDefault();
    const i = Math.max(0, Math.min(n - 1, next));
    const el = scroller.current!;
    const top = i * KEY_ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + KEY_ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + KEY_ROW_HEIGHT - el.clientHeight;
    setScrollTop(el.scrollTop);
    focusWant.current = i;
    setFocusTick((t) => t + 1);
  };

  const items = [];
  for (let i = first; i < last; i++) {
    const r = rows[i];
    items.push(<GroupRow key={r.key} binId={binId} r={r} index={i} n={n} latest={findById(list, r.latestId)} />);
  }

  return (
    <div class="req-list-wrap">
      <div ref={scroller} class="req-list" onScroll={onScroll} data-testid="key-group-scroller">
        <ul class="key-spacer" style={{ height: `${n * KEY_ROW_HEIGHT + 48}px` }} aria-label="Idempotency keys, most recently retried first" onKeyDown={onKeyDown} data-testid="key-group-list" data-count={n}>
          {items}
        </ul>
        <div class="req-footer muted" style={{ transform: `translateY(${n * KEY_ROW_HEIGHT}px)` }}>
          That is all: {n.toLocaleString('en-US')} key{n === 1 ? '' : 's'}.
        </div>
      </div>
    </div>
  );
}

interface RowProps {
  binId: string;
  r: KeyGroupRow;
  index: number;
  n: number;
  /** The latest attempt's row, when it is loaded in the list. */
  latest: RequestItem | undefined;
}

const GroupRow = memo(function GroupRow({ binId, r, index, n, latest }: RowProps) {
  const short = shortKey(r.key, 28);
  const firstAt = r.attempts > 1 ? r.firstAt : null;
  const latestAt = r.latestAt;
  const churned = r.churnWith.length > 0;
  return (
    <li
      class={`key-row${churned ? ' churned' : ''}`}
      style={{ transform: `translateY(${index * KEY_ROW_HEIGHT}px)` }}
      aria-setsize={n}
      aria-posinset={index + 1}
      data-index={index}
      data-testid="key-group"
      data-key={r.key}
      data-attempts={r.attempts}
      data-churn={churned ? 'true' : undefined}
    >
      <Link href={keyPath(binId, r.key)} class="key-row-link" data-testid="key-group-link">
        <span class="req-line1">
          <span class="req-path req-key" title={`Idempotency key ${r.key}`} data-testid="key-group-key">
            <span class="sr-only">Key </span>
            {short === r.key ? (
              r.key
            ) : (
              <>
                <span aria-hidden="true">{short}</span>
                <span class="sr-only">{r.key}</span>
              </>
            )}
          </span>
          <span class="sr-only">, </span>
          <span class={`badge ${r.attempts > 1 ? 'tone-info' : 'tone-muted'}`} data-testid="key-attempts">
            {attemptsText(r.attempts)}
          </span>
          {latest && (
            <>
              <span class="sr-only">, the latest answered</span>
              <StatusBadge status={latest.status} answer={latest.answer} receivedAt={latest.receivedAt} />
            </>
          )}
        </span>
        <span class="req-line2 muted">
          {churned && (
            <span class="req-tag tone-warn" title={churnTitle(r.churnWith)} data-testid="key-churn-flag">
              <span aria-hidden="true">⚠ </span>
              <span class="sr-only">, </span>new key on retry
            </span>
          )}
          {latest?.verification && latest.verification.status !== 'unchecked' && <SignatureBadge v={latest.verification} />}
          {/* The latest before the first in the page (shown after it: row-reverse): when the
              row is too narrow for both, the first time drops out whole, the latest stays. */}
          {(firstAt || latestAt) && (
            <span class="key-times">
              {latestAt && (
                <span class="key-latest" data-testid="key-latest">
                  <span class="sr-only">, </span>
                  {r.attempts > 1 ? 'latest' : 'arrived'} <RelTime iso={latestAt} />
                </span>
              )}
              {firstAt && (
                <span class="key-first" data-testid="key-first">
                  <span class="sr-only">, </span>first <RelTime iso={firstAt} />
                </span>
              )}
            </span>
          )}
        </span>
      </Link>
    </li>
  );
});
