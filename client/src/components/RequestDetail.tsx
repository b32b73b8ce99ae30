// One captured request: the body first (in every useful view), then what the bin answered
// and why, its signature check, where it was sent on (forwards, replays), and the headers,
// query and trailers as sent. Actions: copy the body, as cURL or as HAR, download, replay
// (as is or edited), delete. It follows live changes to its row (a check or a forward done).
import { memo } from '../lib/memo.ts';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AnswerOutcome, ForwardRecord, RequestDetail as Detail, RequestItem } from '../../../shared/api.ts';
import { api, isNotFound } from '../lib/api.ts';
import { PollGuard } from '../lib/poll-guard.ts';
import { answeredBy, proxyCutOff } from '../lib/answered-by.ts';
import { notSentDetail } from '../lib/not-sent.ts';
import { bodyBytes, decodeUtf8, queryPairs } from '../lib/body-views.ts';
import { copyText } from '../lib/clipboard.ts';
import { toCurl } from '../lib/curl.ts';
import { capturedPairs } from '../lib/header-bytes.ts';
import { formatAbsolute, formatBytes, proxyWait } from '../lib/format.ts';
import { useError } from '../lib/use-error.ts';
import { downloadName } from '../../../shared/filename.ts';
import { BodyView } from './BodyView.tsx';
import { ConfirmButton } from './ConfirmButton.tsx';
import { CopyButton } from './CopyButton.tsx';
import { DispatchNote } from './DispatchNote.tsx';
import { ForwardsSection, outcomeText } from './ForwardsSection.tsx';
import { PairsTable } from './HeadersTable.tsx';
import { RelTime } from './RelTime.tsx';
import { ReplayPanel } from './ReplayPanel.tsx';
import { IdempotencyLine, SignaturePanel } from './SignaturePanel.tsx';
import { MethodBadge, StatusBadge } from './StatusBadge.tsx';

interface Props {
  binId: string;
  binUrl: string;
  requestId: string;
  /** Its list row: a new object when the row changed live, so the detail is read again. */
  row?: RequestItem;
  onDeleted: (id: string) => void;
  /** It answered 404: the page checks whether the whole bin is gone. */
  onMissing?: () => Promise<void>;
  /**
   * The request is known to be gone, from a live event: 'deleted' by someone (the detail goes),
   * or 'evicted', pushed out by a cap (what was loaded stays readable, with a notice).
   */
  gone?: false | 'deleted' | 'evicted';
  binDeleted?: boolean;
  requestPath: (id: string) => string;
  /** The list filtered by an idempotency key, this capture open; null when it already is. */
  keyPath?: (id: string, key: string) => string | null;
}

const HEADERS_OPEN_KEY = 'hooklab.headersOpen';

export const RequestDetail = memo(function RequestDetail({ binId, binUrl, requestId, row, onDeleted, onMissing, gone, binDeleted, requestPath, keyPath }: Props) {
  const [detail, setDetail] = useState<Detail | null>(null);
  /** 404: 'checking' while the page asks whether the whole bin is gone. */
  const [missing, setMissing] = useState<false | 'checking' | 'request'>(false);
  const [showDecoded, setShowDecoded] = useState(true);
  const [replay, setReplay] = useState<'quick' | 'edit' | null>(null);
  const [actionError, setActionError] = useError();
  const [harCopied, setHarCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  const [headersOpen, setHeadersOpen] = useState(() => localStorage.getItem(HEADERS_OPEN_KEY) === '1');
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);
  const replayBtn = useRef<HTMLButtonElement>(null);
  const editBtn = useRef<HTMLButtonElement>(null);
  /** What the last replay from here got: said where it was sent, its records marked under Forwards. */
  const [replayed, setReplayed] = useState<ForwardRecord[] | null>(null);
  const goneNow = useRef(gone);
  goneNow.current = gone;

  // Each live change of the row reads the detail again: only the newest read's answer is
  // shown (an older one answering last would bring the older state back).
  const [reads] = useState(() => new PollGuard());
  const load = (reset: boolean) => {
    if (reset) {
      // Another request: what is still out was read for the one before.
      reads.changed();
      setDetail(null);
      setMissing(false);
      setActionError(null);
    }
    void reads.run(
      () => api.getRequest(binId, requestId),
      (d) => {
        if (!alive.current) return;
        setDetail(d);
        setLoadError(null);
      },
      (err) => {
        if (!alive.current) return;
        // Pushed out while open: keep showing what was loaded (the notice says why).
        if (goneNow.current === 'evicted') return;
        if (isNotFound(err)) {
          setMissing('checking');
          void (onMissing?.() ?? Promise.resolve()).then(() => alive.current && setMissing('request'));
        } else setLoadError(err);
      },
    );
  };
  // "Cannot reach the server" goes away by itself: once the server is back, read it again.
  const [loadError, setLoadError] = useError(() => load(false));

  useEffect(() => load(true), [binId, requestId]);
  // The row changed live (signature checked, a forward or replay finished): read it again.
  const firstRow = useRef(row);
  useEffect(() => {
    if (row && row !== firstRow.current) load(false);
  }, [row]);

  const evicted = gone === 'evicted';
  if (gone === 'deleted' || (evicted && !detail) || missing || (binDeleted && !detail)) {
    return (
      <div class="detail-empty" data-testid="request-gone">
        {binDeleted ? (
          <p>This bin was deleted, and its requests with it.</p>
        ) : missing === 'checking' ? (
          <p class="muted">This request is no longer stored…</p>
        ) : (
          <>
            <p>This request is no longer stored.</p>
            <p class="muted">
              {gone === 'deleted'
                ? 'It was deleted.'
                : evicted
                  ? 'It was pushed out because the bin keeps only its newest requests (MAX_REQUESTS_PER_BIN), or the server’s storage budget (MAX_STORE_BYTES) was full. Nobody deleted it.'
                  : 'It was deleted, or pushed out because the bin keeps only its newest requests (MAX_REQUESTS_PER_BIN).'}
            </p>
          </>
        )}
      </div>
    );
  }
  if (!detail) {
    return loadError ? (
      <p class="notice notice-bad" role="alert" data-testid="detail-error">
        {loadError}
      </p>
    ) : (
      <p class="muted detail-loading">Loading request…</p>
    );
  }

  const target = detail.path + (detail.queryString ? `?${detail.queryString}` : '');
  const query = queryPairs(detail.queryString);
  const decoded = detail.decoded && showDecoded && !detail.decoded.error ? detail.decoded : null;
  const v = detail.verification;

  // Computed on click: a big body is not quoted for the shell on every render.
  const curl = () => {
    const text = detail.bodyEncoding === 'utf8' ? detail.body : decodeUtf8(bodyBytes(detail.body, 'base64'));
    return toCurl({
      method: detail.method,
      url: binUrl + (detail.path === '/' ? '' : detail.path) + (detail.queryString ? `?${detail.queryString}` : ''),
      headers: capturedPairs(detail.headers, detail.headerCharsets),
      bodyText: text,
      size: detail.size,
      truncated: detail.truncated,
      bodyFile: downloadName(detail.id, detail.contentType),
    });
  };

  const copyHar = async () => {
    try {
      const ok = await copyText(await api.harOf(binId, detail.id));
      setHarCopied(ok ? 'copied' : 'failed');
    } catch (err) {
      setHarCopied('failed');
      setActionError(isNotFound(err) ? 'Could not copy as HAR: the bin was deleted.' : err);
    }
    setTimeout(() => alive.current && setHarCopied('idle'), 1800);
  };

  const remove = async () => {
    try {
      await api.deleteRequest(binId, detail.id);
      onDeleted(detail.id);
    } catch (err) {
      setActionError(isNotFound(err) ? (binDeleted ? 'Could not delete it: the bin was deleted.' : 'Could not delete it: it is no longer stored.') : err);
    }
  };

  const addRecords = (records: ForwardRecord[]) => {
    setReplayed(records);
    // The replay's live event may have read them in already.
    setDetail((d) => {
      if (!d) return d;
      const have = new Set(d.forwards.map(recordKey));
      return { ...d, forwards: [...d.forwards, ...records.filter((r) => !have.has(recordKey(r)))] };
    });
  };
  const freshKeys = replayed ? new Set(replayed.map(recordKey)) : null;
  const fresh = freshKeys ? (r: ForwardRecord) => freshKeys.has(recordKey(r)) : undefined;
  const showFresh = () => {
    const el = document.querySelector<HTMLElement>('[data-testid="forward-record"][data-fresh="true"]');
    el?.scrollIntoView({ block: 'center' });
    el?.focus({ preventScroll: true });
  };
  const toggleHeaders = (open: boolean) => {
    setHeadersOpen(open);
    localStorage.setItem(HEADERS_OPEN_KEY, open ? '1' : '0');
  };
  const off = !!binDeleted;
  // No longer stored: what needs the stored capture (raw download, HAR, replay, delete) is off.
  const unstored = off || evicted;
  // The panel (and the field or button focus was on) goes away: focus back to the button that opened it.
  const closeReplay = () => {
    (replay === 'edit' ? editBtn : replayBtn).current?.focus();
    setReplay(null);
  };

  return (
    <article class="detail" data-testid="request-detail" data-detail-id={detail.id} aria-label="Request detail" tabIndex={-1}>
      <header class="detail-head">
        <h2 class="detail-title">
          <MethodBadge method={detail.method} />
          <span class="detail-path">{target}</span>
        </h2>
        <div class="detail-actions">
          <CopyButton text={curl} label="Copy as cURL" testId="copy-curl" />
          <button type="button" class="btn" onClick={copyHar} disabled={unstored} data-testid="copy-har">
            <span aria-live="polite">{harCopied === 'copied' ? 'Copied ✓' : harCopied === 'failed' ? 'Copy failed' : 'Copy as HAR'}</span>
          </button>
          {evicted && !off ? (
            // The server no longer has it: save the copy on screen (the stored bytes, as loaded).
            <button type="button" class="btn" onClick={() => saveLoadedBody(detail)} title="Saves the body as loaded before it was pushed out" data-testid="download-raw">
              Download raw body
            </button>
          ) : unstored ? (
            <button type="button" class="btn" disabled data-testid="download-raw">
              Download raw body
            </button>
          ) : (
            <a class="btn" href={api.rawUrl(binId, detail.id, true)} download={downloadName(detail.id, detail.contentType)} data-testid="download-raw">
              Download raw body
            </a>
          )}
          <button type="button" class="btn" ref={replayBtn} disabled={unstored} aria-expanded={replay === 'quick'} onClick={() => setReplay(replay === 'quick' ? null : 'quick')} data-testid="replay">
            Replay
          </button>
          <button type="button" class="btn" ref={editBtn} disabled={unstored} aria-expanded={replay === 'edit'} onClick={() => setReplay(replay === 'edit' ? null : 'edit')} data-testid="edit-replay">
            Edit &amp; replay
          </button>
          <ConfirmButton onConfirm={remove} confirmLabel="Really delete?" testId="delete-request" disabled={unstored}>
            Delete
          </ConfirmButton>
        </div>
        {actionError && (
          <p class="notice notice-bad" role="alert" data-testid="detail-action-error">
            {actionError}
          </p>
        )}
        {evicted && (
          <div class="notice notice-warn" role="alert" data-testid="request-evicted">
            <strong>No longer stored: the bin’s cap pushed this request out</strong> (it keeps only its newest requests, MAX_REQUESTS_PER_BIN, within the server’s
            storage budget, MAX_STORE_BYTES). Nobody deleted it. What is on screen stays readable until you leave: copy the body, copy as cURL, or download the body
            as loaded. Copying as HAR, replaying and deleting need the stored capture and no longer work.
          </div>
        )}
        {replay && !unstored && <ReplayPanel key={replay} binId={binId} detail={detail} edit={replay === 'edit'} onSent={addRecords} onClose={closeReplay} />}
        {replayed && !replay && <ReplayResult records={replayed} onShow={showFresh} onDismiss={() => setReplayed(null)} />}
        <dl class="facts">
          <div>
            <dt>Received</dt>
            <dd>
              <RelTime iso={detail.receivedAt} testId="received-ago" /> <span class="muted small">({formatAbsolute(detail.receivedAt)})</span>
            </dd>
          </div>
          <div>
            <dt>Answered</dt>
            <dd>
              <StatusBadge status={detail.status} answer={detail.answer} receivedAt={detail.receivedAt} long /> <AnswerWhy a={detail.answer} receivedAt={detail.receivedAt} forwards={detail.forwards} />
            </dd>
          </div>
          {detail.dispatch && <DispatchNote label={detail.dispatch} requestId={detail.id} />}
          <IdempotencyLine detail={detail} requestPath={requestPath} groupPath={keyPath} />
          <div>
            <dt>Size</dt>
            <dd>
              {formatBytes(detail.size)}
              {detail.truncated && <span class="badge tone-warn" title="Only the first bytes were stored (MAX_BODY_BYTES)"> stored {formatBytes(detail.storedBytes)}</span>}
            </dd>
          </div>
          <div>
            <dt>From</dt>
            <dd>{detail.ip}</dd>
          </div>
          <div>
            <dt>Id</dt>
            <dd>
              <code>{detail.id}</code>
            </dd>
          </div>
        </dl>
      </header>

      <section aria-labelledby="h-body">
        <h3 id="h-body">
          Body <span class="muted small">{detail.contentType ?? 'no content type'} · {formatBytes(detail.size)}</span>
        </h3>
        {detail.truncated && (
          <p class="notice notice-warn" role="note">
            The body was {detail.size.toLocaleString('en-US')} bytes; only the first {detail.storedBytes.toLocaleString('en-US')} were stored.
          </p>
        )}
        {detail.decoded && (
          <div class="decoded-toggle">
            {detail.decoded.error ? (
              <p class="notice notice-warn">Could not decode the content encoding: {detail.decoded.error}. Showing the raw bytes.</p>
            ) : (
              <label class="check">
                <input type="checkbox" checked={showDecoded} onChange={(e) => setShowDecoded((e.target as HTMLInputElement).checked)} data-testid="show-decoded" />
                Show decoded ({formatBytes(detail.decoded.bytes)}
                {detail.decoded.truncated ? ', cut short' : ''}); the raw download stays as sent
              </label>
            )}
          </div>
        )}
        <BodyView
          key={`${detail.id}:${decoded ? 'd' : 'r'}`}
          body={decoded ? decoded.body : detail.body}
          encoding={decoded ? decoded.bodyEncoding : detail.bodyEncoding}
          contentType={detail.contentType}
          requestId={detail.id}
          truncated={detail.truncated || !!decoded?.truncated}
        />
      </section>

      {v && v.status !== 'unchecked' && (
        <section aria-labelledby="h-signature">
          <h3 id="h-signature">Signature</h3>
          <SignaturePanel v={v} />
        </section>
      )}

      {detail.forwards.length > 0 && (
        <section aria-labelledby="h-forwards">
          <h3 id="h-forwards">
            Forwards <span class="muted small">({detail.forwards.length}, oldest first)</span>
          </h3>
          <ForwardsSection records={detail.forwards} fresh={fresh} />
        </section>
      )}

      <details class="detail-section" open={headersOpen} onToggle={(e) => toggleHeaders((e.currentTarget as HTMLDetailsElement).open)} data-testid="headers-section">
        <summary>
          <h3 class="inline-h" id="h-headers">
            Headers
          </h3>{' '}
          <span class="muted small">({detail.headers.length}, as sent, in order)</span>
        </summary>
        <PairsTable pairs={detail.headers} charsets={detail.headerCharsets} label="Request headers" testId="request-headers" />
      </details>

      {detail.queryString && (
        <section aria-labelledby="h-query">
          <h3 id="h-query">Query</h3>
          <PairsTable pairs={query} label="Query parameters" testId="query-params" empty="Empty query." />
        </section>
      )}

      {detail.trailers && detail.trailers.length > 0 && (
        <section aria-labelledby="h-trailers">
          <h3 id="h-trailers">
            Trailers <span class="muted small">(after the chunked body, in order)</span>
          </h3>
          <PairsTable pairs={detail.trailers} charsets={detail.trailerCharsets} label="Request trailers" testId="request-trailers" />
        </section>
      )}
    </article>
  );
});

const recordKey = (r: ForwardRecord) => `${r.kind}|${r.at}|${r.method}|${r.url}`;

/** What a replay sent from here got, right under the buttons that sent it. */
function ReplayResult({ records, onShow, onDismiss }: { records: ForwardRecord[]; onShow: () => void; onDismiss: () => void }) {
  const failed = records.some((r) => r.status === null);
  const refused = records.some((r) => r.status !== null && r.status >= 400);
  const tone = failed ? 'notice-bad' : refused ? 'notice-warn' : 'notice-ok';
  return (
    <div class={`notice ${tone} replay-result`} role="status" data-testid="replay-result" data-failed={failed ? 'true' : undefined}>
      <strong>{records.length === 0 ? 'Replay: sent nowhere.' : !failed ? 'Replay sent:' : records.length === 1 ? 'Replay failed:' : 'Replay sent, but not every target answered:'}</strong>
      <ul>
        {records.map((r, i) => (
          <li key={i}>
            <code>
              {r.method} {r.url}
            </code>{' '}
            — {outcomeText(r)}
          </li>
        ))}
      </ul>
      <div class="row">
        {records.length > 0 && (
          <button type="button" class="btn btn-small" onClick={onShow} data-testid="replay-result-show">
            Show under Forwards
          </button>
        )}
        <button type="button" class="btn btn-small btn-ghost" onClick={onDismiss}>
          Dismiss
        </button>
      </div>
    </div>
  );
}

/** Download the body as it was loaded (the server's copy is gone). */
function saveLoadedBody(d: Detail) {
  const bytes = bodyBytes(d.body, d.bodyEncoding);
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: d.contentType ?? 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = downloadName(d.id, d.contentType);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function AnswerWhy({ a, receivedAt, forwards }: { a: AnswerOutcome; receivedAt: string; forwards: ForwardRecord[] }) {
  const wait = proxyWait(a, receivedAt);
  if (wait === 'lost') {
    return (
      <span class="muted small" data-testid="answer-why" data-source={a.source} data-lost="true">
        (proxy mode: hooklab stopped before the first forward target answered; the sender got no answer from it)
      </span>
    );
  }
  if (wait === 'waiting') {
    return (
      <span class="muted small" data-testid="answer-why" data-source={a.source} data-pending="true">
        (proxy mode: the first forward target answers the sender)
      </span>
    );
  }
  const why = (a.source === 'proxy' && proxyCutOff(forwards)) || answeredBy(a);
  return (
    <span class="muted small" data-testid="answer-why" data-source={a.source}>
      by {why}
      {a.delayMs ? `, after ${a.delayMs} ms` : ''}
      {a.hungUpAfterMs !== undefined && (
        <strong data-testid="hung-up">
          {' '}
          {notSentDetail(a)}
        </strong>
      )}
    </span>
  );
}
