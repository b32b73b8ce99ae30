// What one attempt sent and what came back, with a link to the request our bin captured.
import type { Attempt, Delivery } from '../../../shared/api.ts';
import { jsonView } from '../lib/body-views.ts';
import { formatDuration, formatWhen } from '../lib/format.ts';
import { Link, paths } from '../lib/router.ts';
import { REASON_LABEL, planNote } from '../lib/timeline.ts';
import { PairsTable } from './HeadersTable.tsx';

export function AttemptDetail({ d, a, signed }: { d: Delivery; a: Attempt; signed: boolean | null }) {
  const created = Date.parse(d.createdAt);
  const body = JSON.stringify(d.payload);
  const pretty = jsonView(body);
  // Attempts recorded before requestHeaders existed fall back to what is always sent.
  const sentHeaders: [string, string][] =
    a.requestHeaders && a.requestHeaders.length > 0
      ? a.requestHeaders
      : [
          ['content-type', 'application/json'],
          ['webhook-id', d.webhookMessageId],
          ['x-hooklab-attempt', String(a.n)],
          ['x-hooklab-delivery', d.id],
          ...(signed ? ([['webhook-signature', 'v1,… (HMAC-SHA256 with the webhook secret)']] as [string, string][]) : []),
        ];
  const result = a.ok ? 'delivered' : a.status !== null ? `HTTP ${a.status}` : (a.error ?? 'error');
  const late = Date.parse(a.sentAt) - Date.parse(a.plannedAt);
  const plan = planNote(a);
  return (
    <div class="attempt" data-testid="attempt-detail" data-attempt-n={a.n}>
      <h4>
        Attempt {a.n}
        {a.manual ? ' (manual)' : ''}: <span class={a.ok ? 'tone-text-ok' : a.status !== null ? 'tone-text-warn' : 'tone-text-bad'}>{result}</span>
      </h4>
      <p class="muted small">
        Planned +{formatDuration(Date.parse(a.plannedAt) - created)}, sent +{formatDuration(Date.parse(a.sentAt) - created)} ({formatWhen(a.sentAt, Date.now(), false)} virtual), took{' '}
        {formatDuration(a.durationMs)} real
        {late > 0 ? `, ${formatDuration(late)} late` : ', on time'}
        {a.errorDetail ? ` · ${a.errorDetail}` : ''}
      </p>
      {a.reason && (
        <p class="small" data-testid="attempt-why">
          Why then: <strong>{REASON_LABEL[a.reason]}</strong>
          {a.reasonDetail ? ` (${a.reasonDetail})` : ''}
        </p>
      )}
      {plan && (
        <p class="small" data-testid="attempt-plan">
          The bin answered with its {plan}.
        </p>
      )}
      {a.capturedRequestId && d.binId && (
        <p>
          <Link href={paths.request(d.binId, a.capturedRequestId)} data-testid="captured-link" class="btn btn-small">
            Open the captured request →
          </Link>
        </p>
      )}
      <div class="attempt-cols">
        <section>
          <h5>Request</h5>
          <p class="mono small url-line">POST {d.url}</p>
          <PairsTable pairs={sentHeaders} label="Request headers sent" />
          <pre class="code small-pre">{pretty.ok ? pretty.pretty : body}</pre>
          {a.capturedRequestId && <p class="muted small">The captured request shows the exact bytes received.</p>}
        </section>
        <section>
          <h5>Response</h5>
          {a.status === null ? (
            <p class="muted">No response ({a.error ?? 'error'}).</p>
          ) : (
            <>
              <p>
                <strong>{a.status}</strong>
              </p>
              <PairsTable pairs={a.responseHeaders} label="Response headers" />
              {a.responseBody ? <pre class="code small-pre">{a.responseBody}</pre> : <p class="muted small">Empty body.</p>}
              {a.responseBodyTruncated && <p class="muted small">Body cut short (DISPATCH_MAX_RESPONSE_BYTES).</p>}
            </>
          )}
        </section>
      </div>
    </div>
  );
}
