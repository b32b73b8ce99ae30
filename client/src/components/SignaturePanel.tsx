// A capture's signature check in words: which scheme and secret signed it and how far its
// timestamp was from the arrival; for a failure, the likely cause, the exact string that was
// signed, what each configured secret gives and what arrived, so the mismatch can be seen.
import type { RequestDetail } from '../../../shared/api.ts';
import type { InvalidCauseT, VerificationT } from '../../../shared/schema/verify.ts';
import { toleranceWords } from '../../../shared/tolerance.ts';
import { formatDuration } from '../lib/format.ts';
import { Link } from '../lib/router.ts';
import { SCHEME_LABELS } from '../lib/verify-form.ts';
import { SignatureBadge } from './SignatureBadge.tsx';

export const CAUSES: Record<InvalidCauseT, string> = {
  body_changed:
    'Body changed: the signed string is formed as the scheme says, but no configured secret gives the signature that arrived. The bytes were altered on the way (a proxy, a re-encoding), or the sender signed other bytes; if the body is exactly as sent, the secret is wrong.',
  wrong_secret: 'Wrong secret: the request was signed with a secret other than the ones configured here.',
  secret_not_decoded: 'The sender keyed the HMAC with the secret’s text ("whsec_…" or its base64) instead of its decoded bytes.',
  secret_decoded: 'The sender keyed the HMAC with the secret’s decoded bytes, where this scheme uses its text.',
  timestamp_missing: 'The signed timestamp is not in the request, so the signed string cannot be formed.',
  reserialized_json: 'The sender signed a re-serialised copy of the JSON body (other spacing or key order), not the bytes it sent.',
  malformed_header: 'The signature header cannot be read (not in the scheme’s format).',
  body_truncated: 'hooklab stored only part of the body (MAX_BODY_BYTES), so the signature cannot be checked.',
  signed_before_compression: 'The sender signed the body before compressing it (Content-Encoding): the signature is over the decompressed bytes, not the bytes sent.',
  signature_encoding: 'The signature is right, but written in a form the provider’s own library compares as text and rejects (URL-safe base64, upper-case hex, spaces in the header).',
};

function skewText(sec: number): string {
  if (sec === 0) return 'signed the second it arrived';
  const d = formatDuration(Math.abs(sec) * 1000);
  return sec > 0 ? `signed ${d} before it arrived` : `signed ${d} after it arrived (the sender's clock is ahead)`;
}

/**
 * A signed timestamp (Unix seconds) as an ISO date, or null past the dates JS can write
 * (±8.64e15 ms): a sender that wrote µs or ns there; toISOString would throw and blank the pane.
 */
function signedDate(sec: number): string | null {
  const d = new Date(sec * 1000);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export function SignaturePanel({ v }: { v: VerificationT }) {
  const d = v.details;
  return (
    <div class="signature" data-testid="signature-panel" data-status={v.status}>
      <p class="sig-line">
        <SignatureBadge v={{ status: v.status, scheme: v.scheme, secretIndex: v.secretIndex }} /> {v.scheme && <strong>{SCHEME_LABELS[v.scheme]}</strong>}
        {v.secretIndex !== undefined && <span data-testid="sig-secret"> · secret #{v.secretIndex + 1}</span>}
        {v.skewSec !== undefined && <span class="muted"> · {skewText(v.skewSec)}</span>}
      </p>
      {d?.cause && (
        <p class="notice notice-bad small" data-testid="sig-cause" data-cause={d.cause}>
          {CAUSES[d.cause]}
        </p>
      )}
      {/* On a valid verdict a message is a warning: right by the spec, refused by the provider's library. */}
      {d?.message && (
        <p class={v.status === 'valid' ? 'notice notice-warn small' : 'small'} data-testid="sig-message">
          {d.message}
        </p>
      )}
      {d?.matched && (
        <p class="small">
          Reproduced with secret #{d.matched.secretIndex + 1} by: <code>{d.matched.how}</code>
        </p>
      )}
      {d?.timestamp !== undefined && (
        <p class="small muted" data-testid="sig-timestamp">
          Signed timestamp {d.timestamp} ({signedDate(d.timestamp) ?? 'out of range: no date in Unix seconds'}){d.toleranceSec !== undefined ? `, tolerance ${toleranceWords(v.scheme, formatDuration(d.toleranceSec * 1000))}` : ''}.
        </p>
      )}
      {d && (d.signed || d.expected?.length || d.received?.length) && (
        <dl class="sig-evidence">
          {d.header && (
            <div>
              <dt>Header</dt>
              <dd>
                <code>{d.header}</code>
              </dd>
            </div>
          )}
          {d.signed && (
            <div>
              <dt>
                Signed string ({d.signed.bytes.toLocaleString('en-US')} bytes{d.signed.truncated ? ', first 256 shown' : ''}
                {d.signed.encoding === 'base64' ? ', base64' : ''})
              </dt>
              <dd>
                <pre class="code small-pre" data-testid="sig-signed">{d.signed.text}</pre>
              </dd>
            </div>
          )}
          {d.expected && d.expected.length > 0 && (
            <div>
              <dt>Expected</dt>
              <dd>
                <ul class="plain" data-testid="sig-expected">
                  {d.expected.map((x) => (
                    <li key={x.secretIndex}>
                      secret #{x.secretIndex + 1}: <code class="break">{x.signature}</code>
                    </li>
                  ))}
                </ul>
              </dd>
            </div>
          )}
          {d.received && d.received.length > 0 && (
            <div>
              <dt>Received</dt>
              <dd>
                <ul class="plain" data-testid="sig-received">
                  {d.received.map((x, i) => (
                    <li key={i}>
                      <code class="break">{x}</code>
                    </li>
                  ))}
                </ul>
              </dd>
            </div>
          )}
        </dl>
      )}
    </div>
  );
}

/**
 * "attempt 2 of 3 of key evt_1", with links to the other captures under the same key, and
 * "Show all 3 with this key": the list filtered by the key (`groupPath`; null when it already is).
 */
export function IdempotencyLine({ detail, requestPath, groupPath }: { detail: RequestDetail; requestPath: (id: string) => string; groupPath?: (id: string, key: string) => string | null }) {
  const i = detail.idempotency;
  if (!i) return null;
  const others = detail.sameKey ?? [];
  const group = i.attempts > 1 ? groupPath?.(detail.id, i.key) : null;
  return (
    <div data-testid="idempotency">
      <dt>Idempotency</dt>
      <dd>
        attempt {i.attempt} of {i.attempts} of key <code>{i.key}</code>
        {others.length > 0 && (
          <>
            {' '}
            · others:{' '}
            {others.slice(0, 20).map((id, n) => (
              <span key={id}>
                {n > 0 && ', '}
                {/* The others come oldest first: their attempt numbers skip this one's. */}
                <Link href={requestPath(id)} title={id} data-testid="same-key-link">
                  attempt {n + 1 >= i.attempt ? n + 2 : n + 1}
                </Link>
              </span>
            ))}
            {others.length > 20 && ` and ${others.length - 20} more`}
          </>
        )}
        {group && (
          <>
            {' '}
            ·{' '}
            <Link href={group} data-testid="same-key-all">
              Show all {i.attempts} with this key
            </Link>
          </>
        )}
        {i.keyChurn && <div class="notice notice-warn small">The same body also arrived under another key: this sender's retries do not keep their key, so receivers cannot de-duplicate.</div>}
      </dd>
    </div>
  );
}
