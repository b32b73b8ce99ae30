// Where a capture was sent on (forward targets, proxy mode, replays), oldest first: the URL,
// the answer's status or why there was none, how long it took, and the answer's first bytes.
import type { ForwardRecord } from '../../../shared/api.ts';
import { decodeUtf8, base64ToBytes } from '../lib/body-views.ts';
import { formatDuration } from '../lib/format.ts';
import { PairsTable } from './HeadersTable.tsx';
import { RelTime } from './RelTime.tsx';
import { StatusBadge } from './StatusBadge.tsx';

const KIND: Record<ForwardRecord['kind'], string> = { forward: 'forward', proxy: 'proxy (answered the sender)', replay: 'replay' };
const ERRORS: Record<NonNullable<ForwardRecord['error']>, string> = {
  timeout: 'timed out',
  refused: 'connection refused',
  reset: 'connection reset',
  dns: 'host not found (DNS)',
  blocked: 'blocked by the outbound policy',
  loop: 'refused: it would loop back into this bin',
  overloaded: 'not sent: too many forwards were waiting',
  truncated: 'not sent: its body was cut at MAX_BODY_BYTES',
  error: 'failed',
};
const PREVIEW = 600;

/** One line for what came of a forward or replay: "200 in 12 ms", "no answer: connection refused". */
export function outcomeText(r: ForwardRecord): string {
  const took = `in ${formatDuration(r.durationMs)}`;
  // A head, then cut off (a reset, the timeout): not a clean answer.
  if (r.status !== null) return r.error ? `answered ${r.status}, then cut off: ${ERRORS[r.error]}, ${took}` : `answered ${r.status} ${took}`;
  return `no answer: ${r.error ? ERRORS[r.error] : 'failed'}${r.errorDetail ? ` (${r.errorDetail})` : ''}, ${took}`;
}

/** Said with every sending of a capture that had chunked trailers: none went (a trailer signature fails at the target). */
export function trailersNotSentText(n: number): string {
  return `${n} trailer${n === 1 ? ' was' : 's were'} not sent: the body went with Content-Length, without the request's chunked trailers (a signature in one will not verify at the target)`;
}

function preview(r: ForwardRecord): string {
  const text = r.bodyEncoding === 'utf8' ? r.body : decodeUtf8(base64ToBytes(r.body));
  const s = text ?? `(binary, base64) ${r.body}`;
  return s.length > PREVIEW ? `${s.slice(0, PREVIEW)}…` : s;
}

/** `fresh`: the records just sent from here (a replay), marked until the detail changes. */
export function ForwardsSection({ records, fresh }: { records: ForwardRecord[]; fresh?: (r: ForwardRecord) => boolean }) {
  return (
    <ol class="forwards" data-testid="forwards">
      {records.map((r, i) => (
        <li
          key={i}
          class={`forward${fresh?.(r) ? ' forward-fresh' : ''}`}
          tabIndex={fresh?.(r) ? -1 : undefined}
          data-testid="forward-record"
          data-kind={r.kind}
          data-status={r.status ?? ''}
          data-error={r.error ?? ''}
          data-fresh={fresh?.(r) ? 'true' : undefined}
        >
          <div class="forward-head">
            <span class="badge tone-muted">{KIND[r.kind]}</span>
            {r.edited && <span class="badge tone-info">edited</span>}
            <code class="forward-url">
              {r.method} {r.url}
            </code>
          </div>
          <div class="forward-outcome">
            {r.status !== null ? <StatusBadge status={r.status} /> : <span class="badge tone-bad">no answer</span>}
            {r.error && (
              <span class="tone-text-bad" data-testid="forward-error">
                {ERRORS[r.error]}
                {r.errorDetail ? `: ${r.errorDetail}` : ''}
              </span>
            )}
            <span class="muted small">
              in {formatDuration(r.durationMs)} · <RelTime iso={r.at} />
            </span>
          </div>
          {r.trailersNotSent ? (
            <div class="tone-text-warn small" data-testid="forward-trailers-not-sent">
              {trailersNotSentText(r.trailersNotSent)}
            </div>
          ) : null}
          {r.status !== null && (
            <details>
              <summary>
                Answer{r.body ? `: ${preview(r).slice(0, 80).replace(/\s+/g, ' ')}${r.body.length > 80 ? '…' : ''}` : ' (no body)'}
              </summary>
              <PairsTable pairs={r.headers} label={`Answer headers of ${r.kind} ${i + 1}`} empty="No headers." />
              {r.body && (
                <pre class="code small-pre" data-testid="forward-body">
                  {preview(r)}
                  {r.bodyTruncated ? (r.error ? '\n(cut off: the rest never came)' : '\n(only the first bytes were kept)') : ''}
                </pre>
              )}
            </details>
          )}
        </li>
      ))}
    </ol>
  );
}
