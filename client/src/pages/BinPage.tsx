// One bin: its URL to copy, a curl example, the live request list (searchable, the filter in
// the page URL) or its captures grouped by idempotency key (?view=keys), with detail,
// export/import and bulk replay, and its settings: response, forward targets, signatures;
// under its name, where its rows take their label from.
// /bins/<id>[?filter|?view=keys], /bins/<id>/requests/<rid>[?filter|?view=keys],
// /bins/<id>/response, /bins/<id>/forward, /bins/<id>/verify.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { BinTools } from '../components/BinTools.tsx';
import { ConfirmButton } from '../components/ConfirmButton.tsx';
import { CopyButton } from '../components/CopyButton.tsx';
import { FilterBar } from '../components/FilterBar.tsx';
import { ForwardSettingsPanel } from '../components/ForwardSettingsPanel.tsx';
import { KeyGroupList } from '../components/KeyGroupList.tsx';
import { RequestDetail } from '../components/RequestDetail.tsx';
import { RequestList } from '../components/RequestList.tsx';
import { ResponseEditor } from '../components/ResponseEditor.tsx';
import { RowLabelSettings } from '../components/RowLabelSettings.tsx';
import { VerifySettingsPanel } from '../components/VerifySettingsPanel.tsx';
import { api, isNotFound } from '../lib/api.ts';
import { backfillText } from '../lib/backfill-note.ts';
import { exampleCurl } from '../lib/curl.ts';
import { formatCount } from '../lib/format.ts';
import { listEndText, tabCount } from '../lib/list-end.ts';
import { fetchStep, stepFrom, stepQueue } from '../lib/list-step.ts';
import { describeFilter, filterFromSearch, filterSearch, isEmptyFilter } from '../lib/request-filter.ts';
import { Link, navigate, paths } from '../lib/router.ts';
import { RowLabelSources } from '../lib/row-labels.ts';
import { KEEP, useBinRequests } from '../lib/use-bin-requests.ts';
import { useError } from '../lib/use-error.ts';
import { useFocusAfter } from '../lib/use-focus-after.ts';

export type BinTab = 'requests' | 'response' | 'forward' | 'verify';

/** The page search that shows the captures grouped by idempotency key. */
const VIEW_KEYS = 'view=keys';

interface Props {
  binId: string;
  requestId: string | null;
  tab: BinTab;
  search: URLSearchParams;
}

/** Keys typed into a field are the field's, not the list's. */
const typing = (t: EventTarget | null) => t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));

export function BinPage({ binId, requestId, tab, search }: Props) {
  const searchKey = search.toString();
  const filter = useMemo(() => filterFromSearch(search), [searchKey]);
  const qs = filterSearch(filter);
  const filtered = !isEmptyFilter(filter);
  // "By key": the bin's captures grouped by idempotency key instead of the list (bin-wide,
  // so switching to it drops the list's filter). Links within the page keep the view.
  const byKey = tab === 'requests' && search.get('view') === 'keys';
  const viewQs = byKey ? `?${VIEW_KEYS}` : qs;
  const s = useBinRequests(binId, filter);
  const [actionError, setActionError] = useError();
  const [renaming, setRenaming] = useState(false);
  const pageEl = useRef<HTMLDivElement>(null);
  const focusAfter = useFocusAfter(pageEl);
  const base = paths.bin(binId) + viewQs;
  const requestPath = useCallback((id: string) => paths.request(binId, id) + viewQs, [binId, viewQs]);
  // "Show all N with this key": the list becomes that key's captures (other filters dropped,
  // so it is the whole group), the capture stays open.
  const keyPath = useCallback((id: string, key: string) => (qs === filterSearch({ key }) ? null : paths.request(binId, id) + filterSearch({ key })), [binId, qs]);
  const unreadCount = s.unreadCount;
  const deleted = s.binDeleted;

  useEffect(() => {
    const name = s.bin?.name ?? 'Bin';
    document.title = `${unreadCount ? `(${unreadCount}) ` : ''}${name} · hooklab`;
  }, [unreadCount, s.bin?.name, s.unreadVersion]);
  useEffect(() => () => void (document.title = 'hooklab'), []);

  // The "filled in after reconnecting" note goes away by itself.
  const [backfillShown, setBackfillShown] = useState<number | null>(null);
  useEffect(() => {
    if (!s.backfilled) return;
    setBackfillShown(s.backfilled.at);
    const t = setTimeout(() => setBackfillShown(null), 15_000);
    return () => clearTimeout(t);
  }, [s.backfilled]);

  useEffect(() => {
    if (requestId) s.markRead(requestId);
  }, [requestId, s.unreadVersion]);

  // One key's captures are few: load them all, so each row can say "attempt n of m" (up to
  // what the list keeps in memory; past that the rows show the key without numbers). Only
  // with the key alone: under other filters too the rows are not the whole group.
  const keyGroup = !!filter.key;
  const keyOnly = keyGroup && qs === filterSearch({ key: filter.key });
  useEffect(() => {
    if (keyGroup && s.nextBefore && !s.loading && !s.loadingOlder && !s.olderError && s.list.length < KEEP) void s.loadOlder();
  }, [keyGroup, s.nextBefore, s.loading, s.loadingOlder, s.olderError]);

  // End goes to the oldest request: the older pages are loaded first (see goEnd below); a
  // selection made meanwhile (Home, a click) wins.
  const [toEnd, setToEnd] = useState(false);
  useEffect(() => setToEnd(false), [binId, qs]);
  const select = useCallback(
    (id: string, how: 'click' | 'key') => {
      setToEnd(false);
      navigate(requestPath(id), { replace: how === 'key' });
    },
    [requestPath],
  );

  // Stable across live updates, so the open detail does not re-render on every batch.
  const listNow = useRef(s.list);
  listNow.current = s.list;
  const selectedNow = useRef(requestId);
  selectedNow.current = requestId;
  const hasOlderNow = useRef(false);
  hasOlderNow.current = !!s.nextBefore;
  const filterNow = useRef(filter);
  filterNow.current = filter;

  // A request opened by a link or a reload may be older than the rows loaded so far: load
  // older pages down to it, so its row can be shown and stepped from. At most `reach` rows
  // (a link into the depths of a huge bin must not load it all); past that the list says
  // the open request is further down, and its button reaches as far again. A page that fails
  // stops it (no loop of requests while offline): the button tries again.
  const [reach, setReach] = useState(KEEP);
  useEffect(() => setReach(KEEP), [binId, qs]);
  const tailId = s.list.at(-1)?.id;
  const selectedBelow = !!requestId && !!tailId && requestId < tailId && !!s.nextBefore;
  const reachingSelected = selectedBelow && s.list.length < reach && !s.olderError;
  // Live captures must not trim what was loaded towards it (the cursor would move back up and
  // the pages be loaded again, for ever on a busy bin), nor the open request's row.
  // Going to the end: nothing loaded on the way is trimmed (the bin holds at most its cap).
  s.setKeepFor(requestId, toEnd ? Infinity : selectedBelow ? reach : 0);
  useEffect(() => {
    if (tab === 'requests' && !byKey && reachingSelected && !s.loading && !s.loadingOlder) void s.loadOlder();
  }, [tab, byKey, reachingSelected, s.nextBefore, s.loading, s.loadingOlder]);
  const loadOlderNow = useRef(s.loadOlder);
  loadOlderNow.current = s.loadOlder;
  // End: every older page, one at a time (a second End while they load reads nothing more),
  // then the oldest row is selected. A page that fails stops it; End again tries again.
  const goEnd = useCallback(() => {
    setToEnd(true);
    void loadOlderNow.current();
  }, []);
  useEffect(() => {
    if (!toEnd || s.loading || s.loadingOlder) return;
    if (s.olderError) setToEnd(false);
    else if (s.nextBefore) void s.loadOlder();
    else {
      setToEnd(false);
      const last = s.list.at(-1);
      if (last) navigate(requestPath(last.id), { replace: true });
    }
  }, [toEnd, s.nextBefore, s.loading, s.loadingOlder, s.olderError]);
  const findSelected = useCallback(() => {
    setReach(listNow.current.length + KEEP);
    // After a failure nothing loads by itself: this click is the retry.
    void loadOlderNow.current();
  }, []);

  // One step of j/k, the arrows, PageUp/PageDown, from the open request even when its row is
  // not loaded (then the API says which comes next: never the top of the list instead).
  // Keys pressed while the API is asked wait their turn, each stepping from where the last
  // landed; a few at most, and none from a key held down (each would read the API again).
  const queue = useMemo(() => stepQueue(4), [binId]);
  const step = useCallback(
    (delta: number, repeat = false) => {
      const once = (): Promise<void> | void => {
        const list = listNow.current;
        const from = selectedNow.current;
        const to = stepFrom(list, from, delta, hasOlderNow.current);
        if (to === null) return;
        const go = (id: string | null) => {
          // A click meanwhile wins over a step that was waiting for the API.
          if (!id || selectedNow.current !== from) return;
          // Set now, not on the next render: a queued step carries on from here.
          selectedNow.current = id;
          navigate(requestPath(id), { replace: true });
        };
        if (to !== 'fetch') return go(list[to.index].id);
        return fetchStep((q) => api.listRequests(binId, q, filterNow.current), list, from!, delta).then(go, (err) => {
          gone(err);
          setActionError(err);
        });
      };
      queue(once, repeat);
    },
    [binId, requestPath, queue],
  );

  const focusList = () => {
    // The list (wide screens), else the detail that took its place (phones): either way the
    // keyboard stays on the page, so j/k carry on without a click.
    const list = document.querySelector<HTMLElement>('[data-testid="request-list"]');
    if (list && list.offsetParent !== null) list.focus({ preventScroll: true });
    else document.querySelector<HTMLElement>('[data-testid="detail-pane"]')?.focus({ preventScroll: true });
  };

  // A key opened from the key view: its row went with the view, so the list takes the focus.
  const wasByKey = useRef(byKey);
  useLayoutEffect(() => {
    const lost = !document.activeElement || document.activeElement === document.body;
    if (wasByKey.current && !byKey && lost) focusList();
    wasByKey.current = byKey;
  }, [byKey]);

  const onDeleted = useCallback(
    (id: string) => {
      // The next older request, else the newer neighbour. (The live delete event may already
      // have removed `id` from the list; ids sort by time, so compare instead of looking it up.)
      const list = listNow.current.filter((r) => r.id !== id);
      const older = list.find((r) => r.id < id);
      const next = older ?? list.filter((r) => r.id > id).at(-1);
      navigate(next ? requestPath(next.id) : base, { replace: true });
      requestAnimationFrame(focusList);
    },
    [requestPath, base],
  );

  // j/k step through the list from anywhere on the page, not only from the focused list
  // (which handles its own keys, the arrows too, first). The arrows stay the page's own:
  // elsewhere they scroll the detail. Not while the list is not shown.
  useEffect(() => {
    if (tab !== 'requests' || byKey) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) return;
      if (e.key !== 'j' && e.key !== 'k') return;
      if (!listNow.current.length) return;
      e.preventDefault();
      step(e.key === 'j' ? 1 : -1, e.repeat);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [tab, byKey, step]);

  const gone = (err: unknown) => {
    if (isNotFound(err)) s.markDeleted();
  };

  const clear = async () => {
    try {
      await api.clearRequests(binId);
      navigate(base, { replace: true });
    } catch (err) {
      gone(err);
      setActionError(isNotFound(err) ? 'Could not clear the bin: it was deleted.' : err);
    }
  };

  // A request that answers 404: gone by itself, or because the whole bin is?
  const onMissing = useCallback(
    () =>
      api.getBin(binId).then(
        () => {},
        (err) => gone(err),
      ),
    [binId],
  );

  if (s.binMissing) {
    return (
      <div class="page-narrow" data-testid="bin-missing">
        <h1>No such bin</h1>
        <p>There is no bin with the id <code>{binId}</code>. It may have been deleted.</p>
        <p>
          <Link href="/" class="btn btn-primary">
            Make a new bin
          </Link>
        </p>
      </div>
    );
  }

  const bin = s.bin;
  // Deleted (by anyone) or pushed out by a cap while open: the detail says which.
  const gonePushed =
    requestId === null
      ? false
      : s.deleted.has(requestId) || (s.clearedAll && !s.list.some((r) => r.id === requestId))
        ? 'deleted'
        : s.evicted.has(requestId)
          ? 'evicted'
          : false;
  const row = requestId ? s.list.find((r) => r.id === requestId) : undefined;
  const settingsTab = tab !== 'requests';
  const here = requestId ? paths.request(binId, requestId) : paths.bin(binId);
  // How many the bin holds (live), not how many rows are loaded; with a filter, the matches so far.
  const countText = tabCount({ loaded: s.list.length, hasOlder: !!s.nextBefore, loading: s.loading, filtered, stored: s.count });
  const countTitle = filtered
    ? `${countText} loaded so far match the search${s.count !== null ? `, of ${formatCount(s.count)} in the bin` : ''}`
    : 'Requests this bin holds';
  // Said once every row is loaded: a bin at its cap says older ones were (or may have been) pushed out.
  const endText = s.list.length ? listEndText({ n: s.list.length, filtered, stored: s.count, max: bin?.maxRequests, pushedOut: s.pushedOut }) : undefined;

  return (
    <div ref={pageEl} class={`bin-page${requestId ? ' has-detail' : ''}${settingsTab ? ' tab-settings' : ''}`} data-testid="bin-page" data-bin-id={binId} data-deleted={deleted ? 'true' : undefined}>
      {deleted && (
        <div class="notice notice-bad" role="alert" data-testid="bin-deleted">
          <strong>This bin was deleted.</strong> New requests to its URL get 404, and nothing here can be changed any more: sending on, replaying, downloading,
          renaming and the settings are off. What is on screen stays readable until you leave.{' '}
          <Link href="/">Make a new bin</Link>.
        </div>
      )}
      <header class="bin-head">
        <div class="bin-title">
          {renaming && bin && !deleted ? (
            <RenameForm
              name={bin.name}
              onDone={async (name) => {
                // The form goes: back to the button that opened it, not <body>.
                focusAfter('[data-testid="rename-bin"]');
                setRenaming(false);
                if (name && name !== bin.name) {
                  try {
                    await s.writeBin(() => api.renameBin(binId, name));
                  } catch (err) {
                    gone(err);
                    setActionError(isNotFound(err) ? 'Could not rename the bin: it was deleted.' : `Could not rename the bin: ${(err as Error).message}.`);
                  }
                }
              }}
            />
          ) : (
            <h1>
              <span class="bin-name-text">{bin?.name ?? 'Bin'}</span>
              {bin && (
                <button type="button" class="btn btn-small btn-ghost" onClick={() => setRenaming(true)} aria-label="Rename bin" disabled={deleted} data-testid="rename-bin">
                  Rename
                </button>
              )}
            </h1>
          )}
          {bin && <RowLabelSettings bin={bin} disabled={deleted} write={s.writeBin} onGone={s.markDeleted} />}
        </div>
        <div class="bin-url-row">
          <code class="bin-url" data-testid="bin-url">
            {bin?.url ?? '…'}
          </code>
          {bin && <CopyButton text={bin.url} label="Copy URL" class="btn-primary" testId="copy-url" />}
        </div>
        {bin && !deleted && (
          <details class="curl-example" open={s.list.length === 0 && !s.loading && !filtered}>
            <summary>Send a test request with curl</summary>
            <div class="curl-box">
              <pre class="code" data-testid="curl-example">{exampleCurl(bin.url)}</pre>
              <CopyButton text={exampleCurl(bin.url)} testId="copy-curl-example" />
            </div>
            <p class="muted small">Any method, sub-path and query work: {bin.url}/anything/here?x=1</p>
          </details>
        )}
        <nav class="tabs page-tabs" aria-label="Bin sections">
          <Link href={requestId ? requestPath(requestId) : base} class="tab" aria-current={tab === 'requests' ? 'page' : undefined} data-testid="tab-requests">
            Requests
            <span class="count" title={countTitle} data-testid="request-count">
              {countText}
            </span>
            {unreadCount > 0 && (
              <span class="badge tone-info" data-testid="unread-count">
                {formatCount(unreadCount)} new
              </span>
            )}
          </Link>
          <Link href={paths.response(binId)} class="tab" aria-current={tab === 'response' ? 'page' : undefined} data-testid="tab-response">
            Response &amp; failure plan
          </Link>
          <Link href={paths.forward(binId)} class="tab" aria-current={tab === 'forward' ? 'page' : undefined} data-testid="tab-forward">
            Forward to…
          </Link>
          <Link href={paths.verify(binId)} class="tab" aria-current={tab === 'verify' ? 'page' : undefined} data-testid="tab-verify">
            Signatures
          </Link>
        </nav>
      </header>

      {actionError && (
        <p class="notice notice-bad" role="alert" data-testid="bin-action-error">
          {actionError}
        </p>
      )}
      {s.error && (
        <p class="notice notice-bad" role="alert">
          {s.error}
        </p>
      )}
      {s.backfilled && s.backfilled.count > 0 && backfillShown === s.backfilled.at && (
        <p class="notice notice-ok small" role="status" data-testid="backfill-note">
          {backfillText(s.backfilled.count, filtered ? s.backfilled.matched : undefined)}
        </p>
      )}

      {tab === 'response' && <ResponseEditor binId={binId} disabled={deleted} />}
      {tab === 'forward' && <ForwardSettingsPanel binId={binId} disabled={deleted} />}
      {tab === 'verify' && <VerifySettingsPanel binId={binId} disabled={deleted} />}
      {tab === 'requests' && (
        <div class="split">
          <div class="split-list">
            <div class="list-views">
              <div class="seg" role="group" aria-label="Show the captures as" data-testid="view-switch">
                <button type="button" class="btn btn-small seg-btn" aria-pressed={!byKey} onClick={() => navigate(here + qs)} data-testid="view-list">
                  List
                </button>
                <button
                  type="button"
                  class="btn btn-small seg-btn"
                  aria-pressed={byKey}
                  title="Group the captures by the sender's idempotency key: retries, and senders that change the key on a retry"
                  onClick={() => navigate(`${here}?${VIEW_KEYS}`)}
                  data-testid="view-keys"
                >
                  By idempotency key
                </button>
              </div>
            </div>
            {!byKey && <FilterBar filter={filter} error={s.filterError} onApply={(f) => navigate(paths.bin(binId) + filterSearch(f))} />}
            <div class="list-toolbar">
              <button type="button" class="btn btn-small" onClick={s.markAllRead} disabled={unreadCount === 0} data-testid="mark-all-read">
                Mark all read
              </button>
              <span class="spacer" />
              <BinTools binId={binId} filter={filter} list={s.list} complete={!s.nextBefore} disabled={deleted} onGone={s.markDeleted} />
              <ConfirmButton class="btn-small" confirmLabel="Delete all requests?" onConfirm={clear} disabled={s.list.length === 0 || deleted} testId="clear-bin">
                Clear bin
              </ConfirmButton>
            </div>
            {byKey ? (
              <KeyGroupList binId={binId} list={s.list} />
            ) : (
              <RowLabelSources.Provider value={bin?.labelFrom}>
                <RequestList
                  binId={binId}
                  requests={s.list}
                  selectedId={requestId}
                  unread={s.unread}
                  unreadVersion={s.unreadVersion}
                  hasOlder={!!s.nextBefore}
                  loadingOlder={s.loadingOlder}
                  olderError={s.olderError}
                  loading={s.loading}
                  onSelect={select}
                  onStep={step}
                  onLoadOlder={s.loadOlder}
                  reachingSelected={reachingSelected}
                  onFindSelected={findSelected}
                  onEnd={goEnd}
                  reachingEnd={toEnd}
                  onVisibleRange={s.setLastVisible}
                  emptyText={s.filterError ? 'This search was refused: fix the filter above.' : filtered ? `No request matches ${describeFilter(filter)}.` : undefined}
                  endText={endText}
                  numbered={keyOnly && !s.loading && !s.nextBefore}
                />
              </RowLabelSources.Provider>
            )}
          </div>
          <div class="split-detail" tabIndex={-1} data-testid="detail-pane">
            {requestId ? (
              <>
                <Link href={base} class="btn btn-small back-link" data-testid="back-to-list">
                  ← All requests
                </Link>
                {bin && (
                  <RequestDetail
                    key={requestId}
                    binId={binId}
                    binUrl={bin.url}
                    requestId={requestId}
                    row={row}
                    onDeleted={onDeleted}
                    onMissing={onMissing}
                    gone={gonePushed}
                    binDeleted={deleted}
                    requestPath={requestPath}
                    keyPath={keyPath}
                  />
                )}
              </>
            ) : (
              <div class="detail-empty">
                {s.loading ? (
                  <p class="muted">Loading…</p>
                ) : s.list.length === 0 && !filtered ? (
                  <>
                    <p>
                      <strong>{deleted ? 'This bin was deleted.' : 'Waiting for the first request…'}</strong>
                    </p>
                    {!deleted && <p class="muted">Send anything to the URL above; it shows up here the moment it arrives.</p>}
                  </>
                ) : byKey ? (
                  <p class="muted">Pick a key to list its attempts, oldest first as attempt 1. Use ↑/↓ to move between the keys.</p>
                ) : (
                  <p class="muted">Select a request to see its body and headers. Use j/k to step through them (in the list, ↑/↓ too).</p>
                )}
              </div>
            )}
          </div>
        </div>
      )}
    </div>
  );
}

function RenameForm({ name, onDone }: { name: string; onDone: (name: string | null) => void }) {
  const [v, setV] = useState(name);
  const input = useRef<HTMLInputElement>(null);
  // Once, as it opens: an inline ref callback ran on every re-render (each live capture) and
  // pulled the focus back from Save or Cancel, so Enter on Cancel saved the name.
  useLayoutEffect(() => input.current?.focus(), []);
  return (
    <form
      class="rename"
      onSubmit={(e) => {
        e.preventDefault();
        onDone(v.trim());
      }}
    >
      <label class="sr-only" for="rename-bin">
        Bin name
      </label>
      <input id="rename-bin" value={v} maxLength={200} onInput={(e) => setV((e.target as HTMLInputElement).value)} ref={input} onKeyDown={(e) => e.key === 'Escape' && onDone(null)} />
      <button type="submit" class="btn btn-small btn-primary">
        Save
      </button>
      <button type="button" class="btn btn-small" onClick={() => onDone(null)}>
        Cancel
      </button>
    </form>
  );
}
