// The captured requests, newest on top, virtualised: only the rows in view (plus a few)
// are in the DOM, so a bin of thousands scrolls smoothly while new ones stream in. A capture
// with an idempotency key shows it (shortened); listing one key's captures, each row says
// which attempt it is ("attempt 2 of 3", by arrival). However the selection changes (a key
// here or anywhere on the page, a link, a reload), its row is scrolled into view once loaded.
import { rankOf, scrollToShow } from '../lib/list-step.ts';
import { memo } from '../lib/memo.ts';
import { useViewHeight } from '../lib/use-view-height.ts';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { RequestItem } from '../../../shared/api.ts';
import { formatBytes } from '../lib/format.ts';
import { shortKey } from '../lib/request-filter.ts';
import { notSentTag, notSentTitle } from '../lib/not-sent.ts';
import { useRowLabel } from '../lib/row-labels.ts';
import { Announcer, useAnnouncer } from './Announcer.tsx';
import { RelTime } from './RelTime.tsx';
import { SignatureBadge } from './SignatureBadge.tsx';
import { MethodBadge, StatusBadge } from './StatusBadge.tsx';

export const ROW_HEIGHT = 56;
const OVERSCAN = 6;

interface Props {
  binId: string;
  requests: RequestItem[];
  selectedId: string | null;
  /** Which rows are unread (see unread.ts); `unreadVersion` changes with it. */
  unread: { has(id: string): boolean };
  unreadVersion: number;
  hasOlder: boolean;
  loadingOlder: boolean;
  loading: boolean;
  onSelect: (id: string, how: 'click' | 'key') => void;
  /**
   * Move the selection this many rows (positive: down, to older ones). The page does it, as
   * its j/k do: the open request may not be among the loaded rows.
   */
  onStep: (delta: number, repeat?: boolean) => void;
  onLoadOlder: () => void;
  /** The last older page failed: nothing loads one by itself until a button asks again. */
  olderError?: string | null;
  /** Older pages are being loaded down to the open request (it is older than the loaded rows). */
  reachingSelected?: boolean;
  /** Load older pages until the open request's row is there (it is further down than they reached). */
  onFindSelected?: () => void;
  /** End with older pages left: the page loads them all, then selects the oldest row. */
  onEnd?: () => void;
  /** Older pages are being loaded for End. */
  reachingEnd?: boolean;
  onVisibleRange?: (last: number) => void;
  /** Said when the list is empty (e.g. nothing matches the filter). */
  emptyText?: string;
  /**
   * Said at the end once every row is loaded, instead of "That is all: N requests." (a bin at
   * its cap says older ones were, or may have been, pushed out: see list-end.ts).
   */
  endText?: string;
  /**
   * The list is every stored capture of one idempotency key (filtered by it, all pages
   * loaded): rows say "attempt n of m", n by arrival (the oldest is 1).
   */
  numbered?: boolean;
}

export const RequestList = memo(function RequestList(p: Props) {
  const { requests } = p;
  const scroller = useRef<HTMLDivElement>(null);
  const viewH = useViewHeight(scroller);
  const [scrollTop, setScrollTop] = useState(0);
  const headId = useRef<string | null>(null);
  const [newAbove, setNewAbove] = useState(0);
  const frame = useRef(0);

  // New rows on top: stay on what the user is reading unless they are at the top. At the top
  // too while the open request's row is in view: else a stream pushes it out from under their
  // eyes (Home, then the next batch); "N new" above says how many came and jumps to them.
  useLayoutEffect(() => {
    const el = scroller.current;
    const prev = headId.current;
    headId.current = requests[0]?.id ?? null;
    if (!el || !prev || requests.length === 0 || requests[0].id === prev) return;
    let k = 0;
    while (k < requests.length && k < 5000 && requests[k].id > prev) k++;
    if (k === 0 || requests[k]?.id !== prev) return;
    if (el.scrollTop <= 2) {
      const sel = p.selectedId ? rankOf(requests, p.selectedId) : -1;
      // Where its row was before these k came, and whether that was on screen.
      const was = (sel - k) * ROW_HEIGHT;
      if (sel < k || requests[sel]?.id !== p.selectedId || was >= el.scrollTop + el.clientHeight) return;
    }
    el.scrollTop += k * ROW_HEIGHT;
    setScrollTop(el.scrollTop);
    // A list too short to scroll stayed at the top: the new rows are in view, nothing to say.
    if (el.scrollTop > 2) setNewAbove((n) => n + k);
  }, [requests]);

  // New captures told to screen readers, summed up at a pace they can speak (not one each).
  const arrivals = useRef<{ n: number; newest: RequestItem | null }>({ n: 0, newest: null });
  const [said, announce] = useAnnouncer(() => {
    const { n: count, newest } = arrivals.current;
    arrivals.current = { n: 0, newest: null };
    if (!count || !newest) return null;
    return count === 1 ? `1 new request: ${newest.method} ${newest.path}` : `${count.toLocaleString('en-US')} new requests`;
  });
  const announcedHead = useRef<string | null>(null);
  useEffect(() => {
    const prev = announcedHead.current;
    // A first page (a bin opened, a filter changed) is not news: only rows above the head seen
    // ('' once an empty list is loaded: every id is above it).
    announcedHead.current = p.loading ? null : (requests[0]?.id ?? '');
    if (prev === null || p.loading || requests.length === 0 || requests[0].id <= prev) return;
    let k = 0;
    while (k < requests.length && requests[k].id > prev) k++;
    arrivals.current = { n: arrivals.current.n + k, newest: requests[0] };
    announce();
  }, [requests, p.loading]);

  const onScroll = useCallback(() => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const el = scroller.current;
      if (!el) return;
      setScrollTop(el.scrollTop);
      if (el.scrollTop <= 2) setNewAbove(0);
    });
  }, []);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  const n = requests.length;
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(n, Math.ceil((scrollTop + viewH) / ROW_HEIGHT) + OVERSCAN);

  // Near the end: fetch the next older page.
  useEffect(() => {
    p.onVisibleRange?.(last);
    if (p.hasOlder && !p.loadingOlder && !p.olderError && last >= n - 30) p.onLoadOlder();
  }, [last, n, p.hasOlder, p.loadingOlder, p.olderError]);

  // A click selects and puts the keyboard on the list, so the arrow keys carry on from there.
  const onSelect = p.onSelect;
  const selectRow = useCallback(
    (id: string, how: 'click' | 'key') => {
      if (how === 'click') scroller.current?.focus({ preventScroll: true });
      onSelect(id, how);
    },
    [onSelect],
  );

  // By binary search (the rows are in id order): this runs on every live batch.
  const rank = p.selectedId ? rankOf(requests, p.selectedId) : -1;
  const selectedIndex = rank >= 0 && requests[rank]?.id === p.selectedId ? rank : -1;
  // Open, but older than every loaded row while older pages exist: it is further down.
  const selectedBelow = selectedIndex < 0 && !!p.selectedId && p.hasOlder && n > 0 && p.selectedId < requests[n - 1].id;

  // A new selection is shown once its row is loaded, once: scrolling away from it afterwards
  // is the user's business. (The effect above keeps it in place when new rows come in.)
  const toShow = useRef<string | null>(null);
  useLayoutEffect(() => {
    toShow.current = p.selectedId;
  }, [p.selectedId]);
  useLayoutEffect(() => {
    const el = scroller.current;
    // No height: hidden (a phone showing the detail); nothing to scroll yet.
    if (!el || !el.clientHeight || toShow.current === null || toShow.current !== p.selectedId || selectedIndex < 0) return;
    toShow.current = null;
    const to = scrollToShow(selectedIndex * ROW_HEIGHT, ROW_HEIGHT, el.scrollTop, el.clientHeight);
    if (to === null) return;
    el.scrollTop = to;
    // Now, not on the scroll event's frame: the row must be drawn with this render.
    setScrollTop(el.scrollTop);
  }, [p.selectedId, selectedIndex]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (n === 0 || e.altKey || e.ctrlKey || e.metaKey) return;
    const page = Math.max(1, Math.floor(viewH / ROW_HEIGHT) - 1);
    let delta = 0;
    let to = -1;
    switch (e.key) {
      case 'ArrowDown':
      case 'j':
        delta = 1;
        break;
      case 'ArrowUp':
      case 'k':
        delta = -1;
        break;
      case 'PageDown':
        delta = page;
        break;
      case 'PageUp':
        delta = -page;
        break;
      case 'Home':
        to = 0;
        break;
      case 'End':
        // The oldest request, not the last loaded row: older pages first.
        if (p.hasOlder && p.onEnd) {
          e.preventDefault();
          p.onEnd();
          return;
        }
        to = n - 1;
        break;
      default:
        return;
    }
    e.preventDefault();
    if (delta) p.onStep(delta, e.repeat);
    else p.onSelect(requests[to].id, 'key');
  };

  const rows = [];
  for (let i = first; i < last; i++) {
    const r = requests[i];
    rows.push(
      <Row
        key={r.id}
        binId={p.binId}
        r={r}
        top={i * ROW_HEIGHT}
        selected={r.id === p.selectedId}
        unread={p.unread.has(r.id)}
        attempt={p.numbered ? `attempt ${n - i} of ${n}` : undefined}
        onSelect={selectRow}
      />,
    );
  }

  const footer = p.loading
    ? 'Loading…'
    : p.loadingOlder
      ? 'Loading older requests…'
      : p.hasOlder
        ? ''
        : n
          ? (p.endText ?? `That is all: ${n.toLocaleString('en-US')} request${n === 1 ? '' : 's'}.`)
          : (p.emptyText ?? '');
  // A longer end (the cap's note) wraps: the footer grows, and the scroll height with it.
  const longEnd = !!footer && footer.length > 60;

  return (
    <>
      <Announcer said={said} testId="list-announcer" />
      {selectedBelow && (
        <p class="notice notice-warn small" role="status" style={{ margin: '0.5rem' }} data-testid="selected-below">
          {p.reachingSelected || p.loadingOlder ? (
            'Loading older requests, down to the open one…'
          ) : (
            <>
              The open request is further down, older than the {n.toLocaleString('en-US')} loaded.{' '}
              {p.olderError && <span data-testid="older-error">Loading older requests failed: {p.olderError}. </span>}
              <button type="button" class="btn btn-small" onClick={p.onFindSelected ?? p.onLoadOlder} data-testid="find-selected">
                Load down to it
              </button>
            </>
          )}
        </p>
      )}
      {p.reachingEnd && (
        <p class="notice notice-warn small" role="status" style={{ margin: '0.5rem' }} data-testid="reaching-end">
          Loading older requests, down to the oldest… ({n.toLocaleString('en-US')} loaded)
        </p>
      )}
      <div class="req-list-wrap">
        {newAbove > 0 && (
          <button
            type="button"
            class="new-above"
            data-testid="new-above"
            onClick={() => {
              scroller.current!.scrollTop = 0;
              setNewAbove(0);
            }}
          >
            ↑ {newAbove.toLocaleString('en-US')} new
          </button>
        )}
        <div
          ref={scroller}
          class="req-list"
          role="listbox"
          tabIndex={0}
          aria-label="Captured requests, newest first"
          aria-activedescendant={selectedIndex >= first && selectedIndex < last ? `req-${p.selectedId}` : undefined}
          onScroll={onScroll}
          onKeyDown={onKeyDown}
          data-testid="request-list"
          data-count={n}
        >
          <div class="req-spacer" style={{ height: `${n * ROW_HEIGHT + 48}px` }}>
            {rows}
            <div
              class="req-footer muted"
              data-testid="list-footer"
              style={{ transform: `translateY(${n * ROW_HEIGHT}px)`, ...(longEnd ? { height: 'auto', minHeight: '48px', padding: '0.6rem 1rem', textAlign: 'center' } : {}) }}
            >
              {footer}
              {p.olderError && p.hasOlder && !p.loadingOlder && <span data-testid="older-failed">Could not load older requests: {p.olderError}. </span>}
              {p.hasOlder && !p.loadingOlder && (
                <button type="button" class="btn btn-small" onClick={p.onLoadOlder}>
                  Load older
                </button>
              )}
            </div>
          </div>
        </div>
      </div>
    </>
  );
});

interface RowProps {
  binId: string;
  r: RequestItem;
  top: number;
  selected: boolean;
  unread: boolean;
  /** "attempt 2 of 3" when the list is one key's captures. */
  attempt?: string;
  onSelect: (id: string, how: 'click' | 'key') => void;
}

const Row = memo(function Row({ binId, r, top, selected, unread, attempt, onSelect }: RowProps) {
  const target = r.path + (r.queryString ? `?${r.queryString}` : '');
  const label = useRowLabel(binId, r);
  return (
    <div
      id={`req-${r.id}`}
      role="option"
      aria-selected={selected}
      class={`req-row${selected ? ' selected' : ''}${unread ? ' unread' : ''}`}
      style={{ transform: `translateY(${top}px)` }}
      data-request-id={r.id}
      data-unread={unread ? 'true' : undefined}
      onClick={() => onSelect(r.id, 'click')}
    >
      <div class="req-line1">
        <span class="unread-dot" aria-hidden="true" />
        <MethodBadge method={r.method} />
        {label ? (
          <span class={`req-path req-label${r.dispatch ? ' req-dispatch-label' : ''}`} title={`${label} — ${target}`} data-testid={r.dispatch ? 'dispatch-label' : 'row-label'}>
            {label}
          </span>
        ) : (
          <span class="req-path" title={target}>
            {target}
          </span>
        )}
        <StatusBadge status={r.status} answer={r.answer} receivedAt={r.receivedAt} />
      </div>
      <div class="req-line2 muted">
        <RelTime iso={r.receivedAt} />
        <span>{formatBytes(r.size)}</span>
        {r.answer.source === 'preflight' && (
          <span class="req-tag tone-info" data-testid="preflight-mark" title="A browser's CORS preflight, answered by hooklab">
            CORS preflight
          </span>
        )}
        {r.verification && r.verification.status !== 'unchecked' && <SignatureBadge v={r.verification} />}
        {r.idempotencyKey && <KeyTag k={r.idempotencyKey} attempt={attempt} />}
        {r.answer.hungUpAfterMs !== undefined && (
          <span class="req-tag tone-warn" data-testid="hung-up-mark" title={notSentTitle(r.answer)}>
            {notSentTag(r.answer)}
          </span>
        )}
        {label && <span class="req-sub" title={target}>{target}</span>}
        {!label && r.contentType && <span class="req-ct">{r.contentType.split(';')[0]}</span>}
        {unread && <span class="sr-only">, unread</span>}
      </div>
    </div>
  );
});

/** Text only (the row is the option to pick): the key shortened, whole in the title. */
function KeyTag({ k, attempt }: { k: string; attempt?: string }) {
  return (
    <span class="req-tag tone-muted" title={`Idempotency key ${k}${attempt ? ` (${attempt})` : ''}`} data-testid="key-tag" data-key={k}>
      {attempt ?? (
        <>
          <span class="sr-only">idempotency </span>key <span class="req-key">{shortKey(k)}</span>
        </>
      )}
    </span>
  );
}
