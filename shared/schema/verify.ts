// Signature and idempotency checks on captures (issue 14): a bin's verification settings
// (PUT /api/bins/:id/verify), their write-only view (GET), and what each capture shows.
import { z } from 'zod';
import { fieldPath, int, list, obj, oneOf, str } from './common.ts';
import { httpToken } from './headers.ts';
import { pastOnlyTolerance } from '../tolerance.ts';

export const SCHEME_TYPES = ['standard-webhooks', 'stripe', 'github', 'shopify', 'slack', 'hmac'] as const;
export const SchemeType = oneOf(SCHEME_TYPES);
export type SchemeTypeT = (typeof SCHEME_TYPES)[number];

export const HMAC_ALGORITHMS = ['sha1', 'sha256', 'sha512'] as const;
export const SIGNATURE_ENCODINGS = ['hex', 'base64'] as const;
export const SIGNED_PARTS = ['body', 'timestamp+body'] as const;

export const DEFAULT_TOLERANCE_SEC = 300;
export const DEFAULT_SEPARATOR = '.';
export const MAX_SCHEMES = 10;
export const MAX_SECRETS = 10;
const MAX_TOLERANCE_SEC = 30 * 86_400;

// No provider's secret starts or ends with whitespace: one that does was pasted with a line
// break, and every signature would then fail as "wrong_secret" with nothing to say why.
const unpadded = (s: string) => s === s.trim();
const secret = () => str(1024, 1).refine(unpadded, { error: 'has spaces or a line break at its start or end (a paste mistake?): remove them' });
const secretList = <T extends z.ZodType>(item: T, description: string) =>
  list(item, MAX_SECRETS).min(1, { error: 'must list at least one secret' }).meta({ description });
const SECRETS_DESCRIPTION = 'Write-only. Several during a key rotation: a signature by any one of them is valid.';
const SECRETS_PUT_DESCRIPTION =
  'Write-only. Each one a new secret (a string) or a saved one kept without sending it again ({"keep": {"scheme": i, "secret": j}}, see KeptSecret). ' +
  'Several during a key rotation: a signature by any one of them is valid.';

const WHSEC = /^(whsec_)?[A-Za-z0-9+/]+={0,2}$/;
/** Standard Webhooks secrets: base64 (the key bytes), usually after "whsec_". */
export const isStandardWebhooksSecret = (s: string): boolean => WHSEC.test(s) && s.replace(/^whsec_/, '').replace(/=+$/, '').length >= 2;

const tolerance = (scheme: SchemeTypeT) =>
  int(1, MAX_TOLERANCE_SEC)
    .optional()
    .meta({
      description: pastOnlyTolerance(scheme)
        ? `How old (seconds) the signed timestamp may be at the arrival time; one from the future passes, as in the provider's libraries; default ${DEFAULT_TOLERANCE_SEC}.`
        : `How far (seconds, either way) the signed timestamp may be from the arrival time; default ${DEFAULT_TOLERANCE_SEC}.`,
    });

const whsecSecret = () =>
  secret().refine((s) => !unpadded(s) || isStandardWebhooksSecret(s), { error: 'must be a Standard Webhooks secret: "whsec_" followed by base64' });

// The shapes, without secrets: the input adds the secrets, the view adds their hints.
const sharedShapes = {
  'standard-webhooks': { type: z.literal('standard-webhooks'), toleranceSec: tolerance('standard-webhooks') },
  stripe: { type: z.literal('stripe'), toleranceSec: tolerance('stripe') },
  github: { type: z.literal('github') },
  shopify: { type: z.literal('shopify') },
  slack: { type: z.literal('slack'), toleranceSec: tolerance('slack') },
  hmac: {
    type: z.literal('hmac'),
    header: httpToken(256).meta({ description: 'The header that carries the signature, e.g. "X-Signature".' }),
    algorithm: oneOf(HMAC_ALGORITHMS),
    encoding: oneOf(SIGNATURE_ENCODINGS).meta({ description: 'How the signature is written in the header.' }),
    prefix: str(64)
      .optional()
      .meta({ description: 'Text before the signature in the header, e.g. "sha256=".' }),
    signed: oneOf(SIGNED_PARTS)
      .optional()
      .meta({ description: 'What is signed: the raw body (default), or the timestamp header, the separator and the body.' }),
    timestampHeader: httpToken(256).optional().meta({ description: 'The header holding the timestamp (Unix seconds or milliseconds); needed for "timestamp+body".' }),
    separator: str(16)
      .optional()
      .meta({ description: `Between the timestamp and the body; default "${DEFAULT_SEPARATOR}".` }),
    toleranceSec: tolerance('hmac'),
  },
} as const;

/** Generic HMAC: the timestamp fields only mean something when the timestamp is signed. */
function hmacFieldsAgree(s: { signed?: string; timestampHeader?: string; separator?: string; toleranceSec?: number }, ctx: z.RefinementCtx) {
  if (s.signed === 'timestamp+body') {
    if (s.timestampHeader === undefined) ctx.addIssue({ code: 'custom', path: ['timestampHeader'], message: 'is required when signed is "timestamp+body"' });
    return;
  }
  for (const k of ['timestampHeader', 'separator', 'toleranceSec'] as const) {
    if (s[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'applies only when signed is "timestamp+body"' });
  }
}

const typeMessage = (iss: { code: string; input?: unknown }) => {
  if (iss.code === 'invalid_type') return 'must be a JSON object';
  const t = (iss.input as { type?: unknown } | undefined)?.type;
  return t === undefined ? 'is required' : `must be one of: ${SCHEME_TYPES.join(', ')}`;
};

/**
 * A saved secret named rather than sent again (PUT only: saved secrets are write-only, so a
 * client cannot send them back). It names the secret by where GET shows it, in the revision
 * the request's If-Match names: the server resolves it against exactly those settings.
 */
export const KeptSecret = obj({
  keep: obj({
    scheme: int(0, MAX_SCHEMES - 1).meta({ description: 'The saved scheme, by its index in the settings GET answers (schemes[scheme]).' }),
    secret: int(0, MAX_SECRETS - 1).meta({ description: 'The secret, by its index in that scheme\'s secrets (schemes[scheme].secrets[secret]).' }),
  }),
}).meta({
  id: 'KeptSecret',
  description:
    'A secret already saved, kept without typing it again: schemes[scheme].secrets[secret] of the settings as GET /api/bins/{id}/verify showed them. ' +
    'The request must carry If-Match with the ETag that GET answered (428 without it, 412 if the settings changed since), ' +
    'and the saved scheme must be of the same type as the one keeping it (else 400 on that secret). The secret itself is never shown.',
});
export type KeptSecretT = z.output<typeof KeptSecret>;

const isPlainObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A PUT's secret: a new one (checked as `literal`) or a saved one kept (KeptSecret). */
const newOrKept = <T extends z.ZodType>(literal: T) =>
  z.union([literal, KeptSecret], {
    error: (iss) => {
      if (iss.code !== 'invalid_union') return undefined;
      // An object meant as {"keep": …}: say what is wrong with it, not just "invalid".
      const kept = (iss.errors as z.core.$ZodIssue[][] | undefined)?.[1];
      if (isPlainObject(iss.input) && kept?.length) return kept.map((k) => `${k.path.length ? `${fieldPath(k.path)}: ` : ''}${k.message}`).join('; ');
      return 'must be a secret (a string), or {"keep": {"scheme": <index>, "secret": <index>}} for a saved one';
    },
  });

/** The schemes, their secrets given by `whsec` (Standard Webhooks) and `other` (the rest). */
const schemeUnion = <W extends z.ZodType, O extends z.ZodType>(whsec: W, other: O, secrets: string) =>
  z.discriminatedUnion(
    'type',
    [
      obj({ ...sharedShapes['standard-webhooks'], secrets: secretList(whsec, secrets) }).meta({
        description: 'Standard Webhooks (webhook-id/-timestamp/-signature) and Svix (svix-id/-timestamp/-signature); secrets "whsec_…".',
      }),
      obj({ ...sharedShapes.stripe, secrets: secretList(other, secrets) }).meta({ description: 'Stripe-Signature: t=<timestamp>,v1=<hex>; secrets are the endpoint\'s "whsec_…" signing secrets.' }),
      obj({ ...sharedShapes.github, secrets: secretList(other, secrets) }).meta({ description: 'X-Hub-Signature-256: sha256=<hex> of the body.' }),
      obj({ ...sharedShapes.shopify, secrets: secretList(other, secrets) }).meta({ description: "X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the body; the secret is the app's client secret." }),
      obj({ ...sharedShapes.slack, secrets: secretList(other, secrets) }).meta({ description: 'X-Slack-Signature: v0=<hex> of "v0:<X-Slack-Request-Timestamp>:<body>"; the secret is the signing secret.' }),
      obj({ ...sharedShapes.hmac, secrets: secretList(other, secrets) })
        .superRefine(hmacFieldsAgree)
        .meta({ description: 'Any other sender: an HMAC of the body (or timestamp + separator + body), its secret used as UTF-8 text.' }),
    ],
    { error: typeMessage },
  );

/** A scheme with its secrets, every one given: as stored, and as the config file gives them. */
export const VerifyScheme = schemeUnion(whsecSecret(), secret(), SECRETS_DESCRIPTION).meta({ id: 'VerifyScheme' });

/** A scheme as PUT /api/bins/:id/verify takes it: saved secrets may be kept by reference (KeptSecret). */
export const VerifySchemePut = schemeUnion(newOrKept(whsecSecret()), newOrKept(secret()), SECRETS_PUT_DESCRIPTION).meta({ id: 'VerifySchemePut' });

export const IdempotencySettings = obj({
  header: httpToken(256).optional().meta({ description: 'A header that carries the sender\'s event id.' }),
  jsonPath: str(256, 1)
    .regex(/^[^.[\]*]+(\.[^.[\]*]+)*$/, { error: 'must be field names joined by dots, e.g. "id", "data.event_id" or "$.data.items.0.id" (a number picks an array item; no brackets or wildcards)' })
    .optional()
    .meta({ description: 'A field of a JSON body that carries the event id; dot-separated, a number picks an array item; a leading "$." (as JSONPath writes the root) is the root.' }),
}).meta({ id: 'IdempotencySettings', description: 'Checked before the known headers (webhook-id, svix-id, X-GitHub-Delivery, X-Shopify-Webhook-Id) and Stripe event ids.' });

const SCHEMES_DESCRIPTION = 'The scheme whose signature header a request carries decides.';

/** Settings with every secret given: as stored, and as the config file gives them (bins[].verify). */
export const VerifySettingsInput = obj({
  schemes: list(VerifyScheme, MAX_SCHEMES).meta({ description: SCHEMES_DESCRIPTION }),
  idempotency: IdempotencySettings.optional(),
}).meta({ id: 'VerifySettingsInput' });

/**
 * The body of PUT /api/bins/:id/verify: as VerifySettingsInput, but a secret may be a saved one
 * kept ({"keep": …}), so that editing a tolerance does not mean typing every secret again.
 */
export const VerifySettingsPut = obj({
  schemes: list(VerifySchemePut, MAX_SCHEMES).meta({ description: SCHEMES_DESCRIPTION }),
  idempotency: IdempotencySettings.optional(),
}).meta({
  id: 'VerifySettingsPut',
  description:
    'Saved secrets are write-only; to keep one without typing it again, name it ({"keep": {"scheme": i, "secret": j}}, see KeptSecret) and send If-Match with the ETag of the settings it was read from.',
});

/** Settings worth keeping: a scheme to check, or where to find the idempotency key (else: off). */
export const hasVerifySettings = (s: z.output<typeof VerifySettingsInput>): boolean =>
  s.schemes.length > 0 || (s.idempotency !== undefined && (s.idempotency.header !== undefined || s.idempotency.jsonPath !== undefined));

export type VerifySchemeT = z.output<typeof VerifyScheme>;
export type VerifySettingsT = z.output<typeof VerifySettingsInput>;
export type VerifySchemePutT = z.output<typeof VerifySchemePut>;
export type VerifySettingsPutT = z.output<typeof VerifySettingsPut>;
export type IdempotencySettingsT = z.output<typeof IdempotencySettings>;

// ----------------------------------------------------------------------------- the view (GET)

export const SecretHint = z
  .object({
    last4: z.string().meta({ description: 'The last 4 characters (fewer for a short secret: never more than a quarter of it).' }),
    length: z.int(),
  })
  .meta({ id: 'SecretHint', description: 'A secret as answers show it: never the secret itself.' });

const viewOf = <S extends z.ZodRawShape>(shape: S) => z.object({ ...shape, secrets: z.array(SecretHint) });

export const VerifySchemeView = z
  .discriminatedUnion('type', [
    viewOf(sharedShapes['standard-webhooks']),
    viewOf(sharedShapes.stripe),
    viewOf(sharedShapes.github),
    viewOf(sharedShapes.shopify),
    viewOf(sharedShapes.slack),
    viewOf(sharedShapes.hmac),
  ])
  .meta({ id: 'VerifySchemeView' });

export const VerifySettingsView = z
  .object({ schemes: z.array(VerifySchemeView), idempotency: IdempotencySettings.optional() })
  .meta({ id: 'VerifySettingsView' });

/** PUT's answer: the settings as saved, and what their re-check of the stored captures did. */
export const VerifyPutAnswer = VerifySettingsView.extend({
  rechecked: z.int().nullable().meta({ description: 'How many stored captures were checked again; null when the store could not be read for it (see recheckError).' }),
  recheckError: z
    .string()
    .optional()
    .meta({ description: 'Why the re-check did not run through (a disk fault, Redis away): the settings are saved and apply to new captures; the re-check is retried in the background.' }),
}).meta({ id: 'VerifyPutAnswer' });

export type SecretHintT = z.infer<typeof SecretHint>;
export type VerifySettingsViewT = z.infer<typeof VerifySettingsView>;
export type VerifyPutAnswerT = z.infer<typeof VerifyPutAnswer>;

// ----------------------------------------------------------------------------- results

export const VERIFY_STATUSES = ['valid', 'invalid', 'missing', 'expired', 'unchecked'] as const;
export const VerifyStatus = z.enum(VERIFY_STATUSES).meta({
  description:
    'valid: a configured secret signed it; invalid: a signature header is there but does not check out; missing: no configured scheme\'s signature header; expired: signed right, but the timestamp is outside the tolerance; unchecked: no settings.',
});

export const INVALID_CAUSES = [
  'body_changed',
  'wrong_secret',
  'secret_not_decoded',
  'secret_decoded',
  'timestamp_missing',
  'reserialized_json',
  'malformed_header',
  'body_truncated',
  'signature_encoding',
  'signed_before_compression',
] as const;
export const InvalidCause = z.enum(INVALID_CAUSES).meta({
  description:
    'body_changed: the signed string is formed right but no secret signed it (bytes changed on the way, or see wrong_secret); wrong_secret: the secret that signed it is not this one; ' +
    'secret_not_decoded: the sender keyed the HMAC with the secret\'s text ("whsec_…" or the base64) instead of its decoded bytes; secret_decoded: the reverse; ' +
    'timestamp_missing: the signed timestamp is not in the request; reserialized_json: the sender signed a re-serialised copy of the JSON body (other spacing or key order); ' +
    'malformed_header: the signature header cannot be read; body_truncated: hooklab stored only part of the body; ' +
    'signature_encoding: the signature is right, but written in a form the provider\'s own library compares as text and rejects (URL-safe base64, upper-case hex, spaces in Stripe-Signature); ' +
    'signed_before_compression: the sender signed the body before compressing it (Content-Encoding), so the signature is over the decompressed bytes.',
});

export const SignedPreview = z
  .object({
    text: z.string().meta({ description: 'The first 256 bytes of what was signed, as UTF-8 text or (when not UTF-8) base64.' }),
    encoding: z.enum(['utf8', 'base64']),
    bytes: z.int().meta({ description: 'Its full length in bytes.' }),
    truncated: z.boolean(),
  })
  .meta({ id: 'SignedPreview', description: 'The exact string the signature covers, computed from the request.' });

export const VerifyDetails = z
  .object({
    message: z.string().meta({
      description: "For people. On a valid verdict, a warning: signed right by the scheme's spec, but the provider's own library refuses it (a Standard Webhooks body that is not UTF-8).",
    }),
    header: z.string().optional().meta({ description: 'The header the signature was read from.' }),
    signed: SignedPreview.optional(),
    expected: z
      .array(z.object({ secretIndex: z.int(), signature: z.string() }))
      .optional()
      .meta({ description: 'The signature each configured secret gives, written as the header writes it.' }),
    received: z.array(z.string()).optional().meta({ description: 'The signatures the request carries (each as written).' }),
    cause: InvalidCause.optional(),
    matched: z
      .object({
        schemeIndex: z.int(),
        secretIndex: z.int(),
        how: z.string().meta({ description: 'What would have produced the received signature, e.g. "JSON.stringify(JSON.parse(body), null, 2)".' }),
      })
      .optional()
      .meta({ description: 'For a cause found by trying: the mistake that reproduces the received signature.' }),
    timestamp: z.int().optional().meta({ description: 'The signed timestamp (Unix seconds).' }),
    toleranceSec: z.int().optional(),
  })
  .meta({ id: 'VerifyDetails' });

export const Verification = z
  .object({
    status: VerifyStatus,
    scheme: SchemeType.optional().meta({ description: 'The scheme that decided.' }),
    schemeIndex: z.int().optional().meta({ description: 'Its index in the settings\' schemes.' }),
    secretIndex: z.int().optional().meta({ description: 'For valid and expired: which secret signed it.' }),
    skewSec: z.int().optional().meta({ description: 'Arrival time minus the signed timestamp, in seconds (positive: signed in the past).' }),
    details: VerifyDetails.optional(),
  })
  .meta({ id: 'Verification' });

export type VerifyStatusT = z.infer<typeof VerifyStatus>;
export type InvalidCauseT = z.infer<typeof InvalidCause>;
export type SignedPreviewT = z.infer<typeof SignedPreview>;
export type VerifyDetailsT = z.infer<typeof VerifyDetails>;
export type VerificationT = z.infer<typeof Verification>;

// ----------------------------------------------------------------------------- idempotency

export const IDEMPOTENCY_SOURCES = ['header', 'json-path', 'webhook-id', 'svix-id', 'x-github-delivery', 'x-shopify-webhook-id', 'stripe-event-id'] as const;

export const IdempotencyKey = z
  .object({
    key: z.string(),
    source: z.enum(IDEMPOTENCY_SOURCES).meta({ description: 'header / json-path: the ones named in the settings; stripe-event-id: the top-level "id" of a Stripe event body.' }),
  })
  .meta({ id: 'IdempotencyKey' });

export const AttemptInfo = z
  .object({
    key: z.string(),
    attempt: z.int().meta({ description: 'This capture\'s place among the captures with the same key, by arrival (1 = first).' }),
    attempts: z.int().meta({ description: 'How many captures carry the key.' }),
    keyChurn: z.boolean().meta({ description: 'The same body also arrived under another key: the sender\'s retries do not keep their key, so receivers cannot de-duplicate.' }),
  })
  .meta({ id: 'AttemptInfo' });

export const KeyGroups = z
  .object({
    groups: z
      .array(
        z.object({
          key: z.string(),
          ids: z.array(z.string()).meta({ description: 'Its captures by arrival, oldest first (attempt n is ids[n - 1]).' }),
          firstAt: z.string().meta({ description: 'When the first of them arrived (ISO 8601).' }),
          latestAt: z.string().meta({ description: 'When the latest arrived.' }),
        }),
      )
      .meta({ description: 'One per key, in order of first arrival.' }),
    keyChurn: z
      .array(z.object({ bodySha256: z.string(), ids: z.array(z.string()), keys: z.array(z.string()) }))
      .meta({ description: 'Bodies that arrived under more than one key (an empty body, {}, [] or null never counts): the captures and their keys, by arrival.' }),
    unkeyed: z.int().meta({ description: 'Captures the bin holds that carry no key.' }),
  })
  .meta({ id: 'KeyGroups', description: "A bin's captures grouped by idempotency key." });

export type IdempotencyKeyT = z.infer<typeof IdempotencyKey>;
export type AttemptInfoT = z.infer<typeof AttemptInfo>;
export type KeyGroupsT = z.infer<typeof KeyGroups>;
