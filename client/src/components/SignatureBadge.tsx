// A capture's signature check at a glance: a word and a mark, not colour alone.
import type { VerificationBadge } from '../../../shared/api.ts';

const SHOWN: Record<Exclude<VerificationBadge['status'], 'unchecked'>, { mark: string; word: string; tone: string; says: string }> = {
  valid: { mark: '✓', word: 'valid', tone: 'ok', says: 'Signature valid' },
  invalid: { mark: '✗', word: 'invalid', tone: 'bad', says: 'Signature invalid' },
  missing: { mark: '–', word: 'unsigned', tone: 'warn', says: 'No signature' },
  expired: { mark: '◷', word: 'expired', tone: 'warn', says: 'Signature expired (timestamp outside the tolerance)' },
};

export function SignatureBadge({ v }: { v: VerificationBadge }) {
  if (v.status === 'unchecked') return null;
  const s = SHOWN[v.status];
  const title = `${s.says}${v.scheme ? ` (${v.scheme}${v.secretIndex !== undefined ? `, secret ${v.secretIndex + 1}` : ''})` : ''}`;
  return (
    <span class={`req-tag tone-${s.tone}`} title={title} data-testid="sig-badge" data-status={v.status}>
      <span aria-hidden="true">{s.mark} </span>
      <span class="sr-only">signature </span>
      {s.word}
    </span>
  );
}
