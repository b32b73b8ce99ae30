// One bin: its URL to copy, a curl example, the live request list with detail, and its
// response settings. /bins/<id>, /bins/<id>/requests/<rid>, /bins/<id>/response.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { RequestDetail } from '../components/RequestDetail.tsx';
import { RequestList } from '../components/RequestList.tsx';
import { ResponseEditor } from '../components/ResponseEditor.tsx';
import { ConfirmButton } from '../components/ConfirmButton.tsx';
import { CopyButton } from '../components/CopyButton.tsx';
import { api, errorMessage } from '../lib/api.ts';
import { exampleCurl } from '../lib/curl.ts';
import { formatCount } from '../lib/format.ts';
import { Link, navigate, paths } from '../lib/router.ts';
import { useBinRequests } from '../lib/use-bin-requests.ts';

interface Props {
  binId: string;
  requestId: string | null;
  tab: 'requests' | 'response';
}

export function BinPage({ binId, requestId, tab }: Props) {
  const s = useBinRequests(binId);
  const [actionError, setActionError] = useState<string | null>(null);
  const [renaming, setRenaming] = useState(false);
  const base = paths.bin(binId);
  const unreadCount = s.unread.size;

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

  const select = useCallback(
    (id: string, how: 'click' | 'key') => navigate(paths.request(binId, id), { replace: how === 'key' }),
    [binId, base],
  );

  // Stable across live updates, so the open detail does not re-render on every batch.
  const listNow = useRef(s.list);
  listNow.current = s.list;
  const onDeleted = useCallback(
    (id: string) => {
      // The next older request, else the newer neighbour. (The live delete event may already
      // have removed `id` from the list; ids sort by time, so compare instead of looking it up.)
      const list = listNow.current.filter((r) => r.id !== id);
      const older = list.find((r) => r.id < id);
      const next = older ?? list.filter((r) => r.id > id).at(-1);
      navigate(next ? paths.request(binId, next.id) : base, { replace: true });
    },
    [binId, base],
  );

  const clear = async () => {
    try {
      await api.clearRequests(binId);
      navigate(base, { replace: true });
    } catch (err) {
      setActionError(errorMessage(err));
    }
  };

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
  const gone = requestId !== null && (s.deleted.has(requestId) || (s.clearedAll && !s.list.some((r) => r.id === requestId)));

  return (
    <div class={`bin-page${requestId ? ' has-detail' : ''}${tab === 'response' ? ' tab-response' : ''}`} data-testid="bin-page" data-bin-id={binId}>
      {s.binDeleted && (
        <p class="notice notice-bad" role="alert">
          This bin was deleted. New requests to its URL get 404.
        </p>
      )}
      <header class="bin-head">
        <div class="bin-title">
          {renaming && bin ? (
            <RenameForm
              name={bin.name}
              onDone={async (name) => {
                setRenaming(false);
                if (name && name !== bin.name) {
                  try {
                    s.renamed(await api.renameBin(binId, name));
                  } catch (err) {
                    setActionError(errorMessage(err));
                  }
                }
              }}
            />
          ) : (
            <h1>
              <span class="bin-name-text">{bin?.name ?? 'Bin'}</span>
              {bin && (
                <button type="button" class="btn btn-small btn-ghost" onClick={() => setRenaming(true)} aria-label="Rename bin">
                  Rename
                </button>
              )}
            </h1>
          )}
        </div>
        <div class="bin-url-row">
          <code class="bin-url" data-testid="bin-url">
            {bin?.url ?? '…'}
          </code>
          {bin && <CopyButton text={bin.url} label="Copy URL" class="btn-primary" testId="copy-url" />}
        </div>
        {bin && (
          <details class="curl-example" open={s.list.length === 0 && !s.loading}>
            <summary>Send a test request with curl</summary>
            <div class="curl-box">
              <pre class="code" data-testid="curl-example">{exampleCurl(bin.url)}</pre>
              <CopyButton text={exampleCurl(bin.url)} testId="copy-curl-example" />
            </div>
            <p class="muted small">Any method, sub-path and query work: {bin.url}/anything/here?x=1</p>
          </details>
        )}
        <nav class="tabs page-tabs" aria-label="Bin sections">
          <Link href={requestId ? paths.request(binId, requestId) : base} class="tab" aria-current={tab === 'requests' ? 'page' : undefined} data-testid="tab-requests">
            Requests
            <span class="count">{formatCount(s.list.length)}{s.nextBefore ? '+' : ''}</span>
            {unreadCount > 0 && (
              <span class="badge tone-info" data-testid="unread-count">
                {formatCount(unreadCount)} new
              </span>
            )}
          </Link>
          <Link href={paths.response(binId)} class="tab" aria-current={tab === 'response' ? 'page' : undefined} data-testid="tab-response">
            Response &amp; failure plan
          </Link>
        </nav>
      </header>

      {actionError && (
        <p class="notice notice-bad" role="alert">
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
          Reconnected: {s.backfilled.count} request{s.backfilled.count === 1 ? '' : 's'} that arrived meanwhile {s.backfilled.count === 1 ? 'was' : 'were'} filled in.
        </p>
      )}

      {tab === 'response' ? (
        <ResponseEditor binId={binId} />
      ) : (
        <div class="split">
          <div class="split-list">
            <div class="list-toolbar">
              <button type="button" class="btn btn-small" onClick={s.markAllRead} disabled={unreadCount === 0} data-testid="mark-all-read">
                Mark all read
              </button>
              <span class="spacer" />
              <ConfirmButton class="btn-small" confirmLabel="Delete all requests?" onConfirm={clear} disabled={s.list.length === 0} testId="clear-bin">
                Clear bin
              </ConfirmButton>
            </div>
            <RequestList
              requests={s.list}
              selectedId={requestId}
              unread={s.unread}
              unreadVersion={s.unreadVersion}
              hasOlder={!!s.nextBefore}
              loadingOlder={s.loadingOlder}
              loading={s.loading}
              onSelect={select}
              onLoadOlder={s.loadOlder}
              onVisibleRange={s.setLastVisible}
            />
          </div>
          <div class="split-detail">
            {requestId ? (
              <>
                <Link href={base} class="btn btn-small back-link" data-testid="back-to-list">
                  ← All requests
                </Link>
                {bin && <RequestDetail key={requestId} binId={binId} binUrl={bin.url} requestId={requestId} onDeleted={onDeleted} gone={gone} />}
              </>
            ) : (
              <div class="detail-empty">
                {s.loading ? (
                  <p class="muted">Loading…</p>
                ) : s.list.length === 0 ? (
                  <>
                    <p>
                      <strong>Waiting for the first request…</strong>
                    </p>
                    <p class="muted">Send anything to the URL above; it shows up here the moment it arrives.</p>
                  </>
                ) : (
                  <p class="muted">Select a request to see its headers and body. Use ↑/↓ in the list to step through them.</p>
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
      <input id="rename-bin" value={v} maxLength={200} onInput={(e) => setV((e.target as HTMLInputElement).value)} ref={(el) => el?.focus()} onKeyDown={(e) => e.key === 'Escape' && onDone(null)} />
      <button type="submit" class="btn btn-small btn-primary">
        Save
      </button>
      <button type="button" class="btn btn-small" onClick={() => onDone(null)}>
        Cancel
      </button>
    </form>
  );
}
