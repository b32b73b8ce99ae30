// Saved secrets kept while the signature settings are edited. Secrets are write-only: the form
// knows a saved one only by its hint (last characters, length) and by where it was in the
// settings it loaded (schemes[i].secrets[j]). A save names each one it keeps that way
// ({"keep": {"scheme": i, "secret": j}}) with If-Match naming that load's ETag, and adds any
// typed below: changing a tolerance, the idempotency key or the order of the schemes needs no
// secret typed again. A scheme whose sender (type) changed keeps none: they were another
// sender's secrets.
import type { SchemeTypeT, SecretHintT, VerifySettingsPutT, VerifySettingsViewT } from '../../../shared/schema/verify.ts';
import type { Describe } from './field-errors.ts';
import { SCHEME_LABELS, type SchemeForm, type VerifyForm, describeVerifyError, emptyScheme, formToSettings, typedSecrets, viewToForm } from './verify-form.ts';

export interface KeepSchemeForm extends SchemeForm {
  /** Where this scheme was in the loaded settings (its secrets are named by it); null: added here. */
  savedIndex: number | null;
  /** Its type as saved: its saved secrets are kept only while the type is still this one. */
  savedType: SchemeTypeT | null;
  /** For each saved secret (`saved[j]`): kept (true) or removed on save. */
  keep: boolean[];
}

export interface KeepForm extends VerifyForm {
  schemes: KeepSchemeForm[];
}

export const newScheme = (type: SchemeTypeT = 'standard-webhooks'): KeepSchemeForm => ({ ...emptyScheme(type), savedIndex: null, savedType: null, keep: [] });

/** The loaded settings as a form: every saved secret kept. */
export function viewToKeepForm(v: VerifySettingsViewT): KeepForm {
  const f = viewToForm(v);
  return {
    ...f,
    schemes: f.schemes.map((s, i) => ({ ...s, savedIndex: i, savedType: s.type, keep: s.saved.map(() => true) })),
  };
}

/** Another sender for a scheme: its other fields start afresh; secrets typed stay, saved ones wait (kept again if the type comes back). */
export const withType = (s: KeepSchemeForm, type: SchemeTypeT): KeepSchemeForm => ({
  ...emptyScheme(type),
  saved: s.saved,
  secrets: s.secrets,
  savedIndex: s.savedIndex,
  savedType: s.savedType,
  keep: s.keep,
});

/** Whether the saved secrets belong to another sender than the scheme now names (so none is kept). */
export const savedForOtherType = (s: KeepSchemeForm): boolean => s.saved.length > 0 && s.savedType !== null && s.savedType !== s.type;

/** The saved secrets this scheme keeps (by their index in `saved`), as a save sends them. */
export function keptIndexes(s: KeepSchemeForm): number[] {
  if (s.savedIndex === null || savedForOtherType(s)) return [];
  return s.saved.flatMap((_, j) => (s.keep[j] ? [j] : []));
}

export const keepsAny = (f: KeepForm): boolean => f.schemes.some((s) => keptIndexes(s).length > 0);

/** The PUT body: per scheme, the kept saved secrets first (as they were), then the typed ones. */
export function formToPut(f: KeepForm): VerifySettingsPutT {
  const out = formToSettings(f);
  return {
    ...out,
    schemes: out.schemes.map((scheme, i) => {
      const s = f.schemes[i];
      const kept = keptIndexes(s).map((j) => ({ keep: { scheme: s.savedIndex!, secret: j } }));
      return { ...scheme, secrets: [...kept, ...typedSecrets(s)] };
    }),
  } as VerifySettingsPutT;
}

/** "…abcd, saved (32 characters)": a saved secret, never the secret. */
export const describeKept = (h: SecretHintT): string => (h.last4 ? `…${h.last4}, saved (${h.length} characters)` : `a saved secret (${h.length} characters)`);

/** The saved secrets of another sender, in a sentence: why they are not kept. */
export const otherTypeNote = (s: KeepSchemeForm): string =>
  `The saved secret${s.saved.length === 1 ? '' : 's'} (${s.saved.map((h) => (h.last4 ? `…${h.last4}` : `${h.length} characters`)).join(', ')}) ` +
  `${s.saved.length === 1 ? 'was' : 'were'} for ${SCHEME_LABELS[s.savedType!]}, so ${s.saved.length === 1 ? 'it is' : 'they are'} not kept for ${SCHEME_LABELS[s.type]}: ` +
  `type this scheme's secret below, or set the sender back to ${SCHEME_LABELS[s.savedType!]} to keep ${s.saved.length === 1 ? 'it' : 'them'}.`;

/**
 * A scheme that had saved secrets sends none: the server's "must list at least one secret"
 * does not say why, in the form's terms.
 */
export function noSecretsMessage(s: KeepSchemeForm): string | null {
  if (!s.saved.length || keptIndexes(s).length || typedSecrets(s).length) return null;
  if (savedForOtherType(s)) return `type the ${SCHEME_LABELS[s.type]} secret: the saved ones were for ${SCHEME_LABELS[s.savedType!]}`;
  return 'keep a saved secret or type a new one: a scheme needs at least one';
}

/**
 * A refused field in the form's terms: the API's "schemes[0].secrets[1]" is a kept saved
 * secret (named by its hint) when it is one of the first the scheme sent, else a line typed
 * (see describeVerifyError, given the index among the typed ones).
 */
export function describeKeepError(f: KeepForm): Describe {
  const typed = describeVerifyError(f);
  return (field, slot, message) => {
    const m = /^schemes\[(\d+)\]\.secrets\[(\d+)\](.*)$/.exec(field);
    const s = m ? f.schemes[Number(m[1])] : undefined;
    if (m && s && slot === `schemes[${m[1]}].secrets`) {
      const kept = keptIndexes(s);
      const j = Number(m[2]);
      if (j < kept.length) return `saved secret ${describeHintShort(s.saved[kept[j]])}: ${message}`;
      return typed(`schemes[${m[1]}].secrets[${j - kept.length}]${m[3]}`, slot, message);
    }
    return typed(field, slot, message);
  };
}

const describeHintShort = (h: SecretHintT) => (h.last4 ? `…${h.last4}` : `(${h.length} characters)`);

/** Why "Keep mine" cannot keep saved secrets: they were named in a revision that is gone. */
export const KEEP_MINE_WITH_KEPT =
  'These settings were changed elsewhere, and your form keeps saved secrets by where they were in the version you loaded: hooklab cannot tell which secrets those are now. ' +
  'Load theirs and make your change again, or remove the kept secrets and type them.';
