// One captured request: what was sent (method, URL, headers in order, query, body in every
// useful view), what the bin answered and why, and actions (copy as cURL, download, delete).
import { memo } from '../lib/memo.ts';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { AnswerOutcome, RequestDetail as Detail } from '../../../shared/api.ts';
import { ApiError, api, errorMessage } from '../lib/api.ts';
import { bodyBytes, decodeUtf8, queryPairs } from '../lib/body-views.ts';
import { toCurl } from '../lib/curl.ts';
import { formatBytes, formatWhen } from '../lib/format.ts';
import { BodyView } from './BodyView.tsx';
import { ConfirmButton } from './ConfirmButton.tsx';
import { CopyButton } from './CopyButton.tsx';
import { DispatchNote } from './DispatchNote.tsx';
import { PairsTable } from './HeadersTable.tsx';
import { MethodBadge, StatusBadge } from './StatusBadge.tsx';
import { downloadName } from '../../../shared/filename.ts';

interface Props {
  binId: string;
  binUrl: string;
  requestId: string;
  onDeleted: (id: string) => void;
  /** Set when the request is known to be gone (deleted live). */
  gone?: boolean;
}

export const RequestDetail = memo(function RequestDetail({ binId, binUrl, requestId, onDeleted, gone }: Props) {
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<{ message: string; missing: boolean } | null>(null);
  const [showDecoded, setShowDecoded] = useState(true);
  const [actionError, setActionError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    setDetail(null);
    setError(null);
    setActionError(null);
    api.getRequest(binId, requestId).then(
      (d) => alive && setDetail(d),
      (err) => alive && setError({ message: errorMessage(err), missing: err instanceof ApiError && err.status === 404 }),
    );
    return () => {
      alive = false;
    };
  }, [binId, requestId]);

  const curl = useMemo(() => {
    if (!detail) return '';
    const text = detail.bodyEncoding === 'utf8' ? detail.body : decodeUtf8(bodyBytes(detail.body, 'base64'));
    return toCurl({
      method: detail.method,
      url: binUrl + (detail.path === '/' ? '' : detail.path) + (detail.queryString ? `?${detail.queryString}` : ''),
      headers: detail.headers,
      bodyText: text,
      size: detail.size,
      truncated: detail.truncated,
      bodyFile: downloadName(detail.id, detail.contentType),
    });
  }, [detail, binUrl]);

  if (gone || error?.missing) {
    return (
      <div class="detail-empty" data-testid="request-gone">
        <p>This request is no longer stored.</p>
        <p class="muted">It was deleted, or pushed out because the bin keeps only its newest requests (MAX_REQUESTS_PER_BIN).</p>
      </div>
    );
  }
  if (error) return <p class="notice notice-bad" role="alert">{error.message}</p>;
  if (!detail) return <p class="muted detail-loading">Loading request…</p>;

  const target = detail.path + (detail.queryString ? `?${detail.queryString}` : '');
  const query = queryPairs(detail.queryString);
  const decoded = detail.decoded && showDecoded && !detail.decoded.error ? detail.decoded : null;

  const remove = async () => {
    try {
      await api.deleteRequest(binId, detail.id);
      onDeleted(detail.id);
    } catch (err) {
      setActionError(errorMessage(err));
    }
  };

  return (
    <article class="detail" data-testid="request-detail" data-detail-id={detail.id} aria-label="Request detail">
      <header class="detail-head">
        <h2 class="detail-title">
          <MethodBadge method={detail.method} />
          <span class="detail-path">{target}</span>
        </h2>
        <div class="detail-actions">
          <CopyButton text={curl} label="Copy as cURL" testId="copy-curl" />
          <a class="btn" href={api.rawUrl(binId, detail.id, true)} download={downloadName(detail.id, detail.contentType)} data-testid="download-raw">
            Download raw body
          </a>
          <ConfirmButton onConfirm={remove} confirmLabel="Really delete?" testId="delete-request">
            Delete
          </ConfirmButton>
        </div>
        {actionError && <p class="notice notice-bad" role="alert">{actionError}</p>}
        <dl class="facts">
          <div>
            <dt>Received</dt>
            <dd>
              <time dateTime={detail.receivedAt}>{formatWhen(detail.receivedAt)}</time>
            </dd>
          </div>
          <div>
            <dt>Answered</dt>
            <dd>
              <StatusBadge status={detail.status} fault={detail.answer.fault} /> <AnswerWhy a={detail.answer} />
            </dd>
          </div>
          {detail.dispatch && <DispatchNote label={detail.dispatch} requestId={detail.id} />}
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

      <section aria-labelledby="h-headers">
        <h3 id="h-headers">
          Headers <span class="muted small">({detail.headers.length}, as sent, in order)</span>
        </h3>
        <PairsTable pairs={detail.headers} label="Request headers" testId="request-headers" />
      </section>

      {detail.queryString && (
        <section aria-labelledby="h-query">
          <h3 id="h-query">Query</h3>
          <PairsTable pairs={query} label="Query parameters" testId="query-params" empty="Empty query." />
        </section>
      )}

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
                Show decoded ({formatBytes(detail.decoded.bytes)}{detail.decoded.truncated ? ', cut short' : ''}); the raw download stays as sent
              </label>
            )}
          </div>
        )}
        <BodyView
          key={`${detail.id}:${decoded ? 'd' : 'r'}`}
          body={decoded ? decoded.body : detail.body}
          encoding={decoded ? decoded.bodyEncoding : detail.bodyEncoding}
          contentType={detail.contentType}
        />
      </section>
    </article>
  );
});

function AnswerWhy({ a }: { a: AnswerOutcome }) {
  let why: string;
  const pct = a.roll ? `${Math.round(a.roll.p * 1000) / 10}%` : '';
  if (a.source === 'default') why = 'default response';
  else if (a.source === 'step' && a.roll && !a.roll.hit) why = `default response (plan step ${(a.index ?? 0) + 1}: its ${pct} chance missed)`;
  else if (a.source === 'step') why = `plan step ${(a.index ?? 0) + 1}${a.roll ? ` (its ${pct} chance hit)` : ''}`;
  else if (a.source === 'rule') why = `rule ${(a.index ?? 0) + 1}`;
  else if (a.source === 'preflight') why = 'CORS preflight (answered by hooklab, no plan step used)';
  else if (a.source === 'proxy') why = 'the first forward target (proxy mode)';
  else why = 'rate limit';
  return (
    <span class="muted small">
      by {why}
      {a.delayMs ? `, after ${a.delayMs} ms` : ''}
    </span>
  );
}
