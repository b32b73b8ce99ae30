// The signature settings form: strings as typed, converted to the API's input on save. Saved
// secrets are write-only: the form knows only their last characters and length, and a save
// keeps them by reference (verify-keep.ts); the server names whatever else is wrong.
import type { SchemeTypeT, SecretHintT, VerifySettingsT, VerifySettingsViewT } from '../../../shared/schema/verify.ts';
import { type Describe, nameFromSlot } from './field-errors.ts';

export const SCHEME_LABELS: Record<SchemeTypeT, string> = {
  'standard-webhooks': 'Standard Webhooks / Svix',
  stripe: 'Stripe',
  github: 'GitHub',
  shopify: 'Shopify',
  slack: 'Slack',
  hmac: 'Other (HMAC of the body)',
};
export const SCHEME_TYPES = Object.keys(SCHEME_LABELS) as SchemeTypeT[];

export interface SchemeForm {
  type: SchemeTypeT;
  /** The saved secrets, as the server shows them. */
  saved: SecretHintT[];
  /** Secrets typed here, one per line (several during a key rotation). */
  secrets: string;
  toleranceSec: string;
  header: string;
  algorithm: string;
  encoding: string;
  prefix: string;
  signed: string;
  timestampHeader: string;
  separator: string;
}

export interface VerifyForm {
  schemes: SchemeForm[];
  idemHeader: string;
  idemJsonPath: string;
}

export const emptyScheme = (type: SchemeTypeT = 'standard-webhooks'): SchemeForm => ({
  type,
  saved: [],
  secrets: '',
  toleranceSec: '',
  header: type === 'hmac' ? 'X-Signature' : '',
  algorithm: 'sha256',
  encoding: 'hex',
  prefix: '',
  signed: 'body',
  timestampHeader: '',
  separator: '',
});

/** Which optional fields a scheme type has. */
export const hasTolerance = (s: SchemeForm) => s.type === 'standard-webhooks' || s.type === 'stripe' || s.type === 'slack' || (s.type === 'hmac' && s.signed === 'timestamp+body');

export function viewToForm(v: VerifySettingsViewT): VerifyForm {
  return {
    schemes: v.schemes.map((s) => {
      const f = emptyScheme(s.type);
      f.saved = s.secrets;
      const any = s as Record<string, unknown>;
      for (const k of ['toleranceSec', 'header', 'algorithm', 'encoding', 'prefix', 'signed', 'timestampHeader', 'separator'] as const) {
        if (any[k] !== undefined) f[k] = String(any[k]);
      }
      return f;
    }),
    idemHeader: v.idempotency?.header ?? '',
    idemJsonPath: v.idempotency?.jsonPath ?? '',
  };
}

const numOrText = (s: string): number | string => (/^-?\d+$/.test(s.trim()) ? Number(s.trim()) : s.trim());
export const typedSecrets = (s: SchemeForm) => s.secrets.split('\n').map((x) => x.trim()).filter(Boolean);
/** The line (1-based, as typed, blank lines counted) of each secret typedSecrets sends. */
export function secretLines(s: SchemeForm): number[] {
  const out: number[] = [];
  s.secrets.split('\n').forEach((x, i) => {
    if (x.trim()) out.push(i + 1);
  });
  return out;
}

/** The PUT body. Blank optional fields are left out, for their defaults. */
export function formToSettings(f: VerifyForm): VerifySettingsT {
  const schemes = f.schemes.map((s) => {
    const out: Record<string, unknown> = { type: s.type, secrets: typedSecrets(s) };
    if (hasTolerance(s) && s.toleranceSec.trim()) out.toleranceSec = numOrText(s.toleranceSec);
    if (s.type === 'hmac') {
      out.header = s.header.trim();
      out.algorithm = s.algorithm;
      out.encoding = s.encoding;
      if (s.prefix) out.prefix = s.prefix;
      if (s.signed && s.signed !== 'body') out.signed = s.signed;
      if (s.signed === 'timestamp+body') {
        if (s.timestampHeader.trim()) out.timestampHeader = s.timestampHeader.trim();
        if (s.separator) out.separator = s.separator;
      }
    }
    return out;
  });
  const idempotency: Record<string, string> = {};
  if (f.idemHeader.trim()) idempotency.header = f.idemHeader.trim();
  if (f.idemJsonPath.trim()) idempotency.jsonPath = f.idemJsonPath.trim();
  return { schemes, ...(Object.keys(idempotency).length ? { idempotency } : {}) } as VerifySettingsT;
}

/** Every slot that can show a message, for the schemes the form has. */
export function verifySlots(f: VerifyForm): string[] {
  const out = ['schemes', 'idempotency', 'idempotency.header', 'idempotency.jsonPath'];
  f.schemes.forEach((_, i) => {
    out.push(`schemes[${i}]`);
    for (const k of ['type', 'secrets', 'toleranceSec', 'header', 'algorithm', 'encoding', 'prefix', 'signed', 'timestampHeader', 'separator']) out.push(`schemes[${i}].${k}`);
  });
  return out;
}

/**
 * A refused field on the slot that shows it, in the form's terms: the API's
 * "schemes[0].secrets[1]" is a line of Scheme 1's Secrets box, counted as typed (blank lines
 * are not sent, so the API's index is not the line); anything else under a slot is named from
 * there ("prefix", not "schemes[0].prefix": the box already says which scheme).
 */
export function describeVerifyError(f: VerifyForm): Describe {
  return (field, slot, message) => {
    const m = /^schemes\[(\d+)\]\.secrets\[(\d+)\]$/.exec(field);
    if (m && slot === `schemes[${m[1]}].secrets`) {
      const scheme = f.schemes[Number(m[1])];
      const line = scheme ? secretLines(scheme)[Number(m[2])] : undefined;
      return line ? `line ${line}: ${message}` : `secret ${Number(m[2]) + 1}: ${message}`;
    }
    return nameFromSlot(field, slot, message);
  };
}

/** "••••a1b2 (32 characters)": a saved secret, never the secret. */
export const describeHint = (h: SecretHintT) => `••••${h.last4} (${h.length} characters)`;
