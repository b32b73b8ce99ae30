// Saved secrets kept by reference in PUT /api/bins/:id/verify. Secrets are write-only (answers
// show their last characters only), so a client editing a tolerance cannot send them back; it
// names them instead ({"keep": {"scheme": i, "secret": j}}: schemes[i].secrets[j] as GET showed
// them). A name only means something against the revision it was read from: the request must
// carry If-Match with that one ETag (checked by the route before this runs), and every name is
// resolved against the settings that ETag names. Nothing here ever puts a secret in a message.
import type { FieldErrorT } from '../../shared/schema/common.ts';
import type { KeptSecretT, VerifySettingsPutT, VerifySettingsT } from '../../shared/schema/verify.ts';
import { HttpError } from '../http/errors.ts';

const isKept = (s: string | KeptSecretT): s is KeptSecretT => typeof s !== 'string';

/** Whether the body keeps any saved secret by reference. */
export const keepsSavedSecrets = (input: VerifySettingsPutT): boolean => input.schemes.some((s) => s.secrets.some(isKept));

/**
 * The settings to store: every kept secret replaced by the saved one it names. `saved` are the
 * settings the request's If-Match named (undefined: none saved). Refuses (400, every bad
 * reference listed at once, as a parse does) a reference to nothing, or to a scheme of
 * another type (its secret was meant for another sender: e.g. a Stripe secret for GitHub).
 */
export function resolveKeptSecrets(input: VerifySettingsPutT, saved: VerifySettingsT | undefined): VerifySettingsT {
  const savedSchemes = saved?.schemes ?? [];
  const fields: FieldErrorT[] = [];
  const schemes = input.schemes.map((scheme, i) => {
    const secrets = scheme.secrets.map((s, j) => {
      if (!isKept(s)) return s;
      const field = `schemes[${i}].secrets[${j}]`;
      const { scheme: si, secret: sj } = s.keep;
      const from = savedSchemes[si];
      if (!from) {
        fields.push({
          field,
          message: savedSchemes.length
            ? `keeps a secret of saved scheme ${si}, but the saved settings have ${savedSchemes.length} scheme${savedSchemes.length === 1 ? '' : 's'} (0 to ${savedSchemes.length - 1})`
            : `keeps a secret of saved scheme ${si}, but no scheme is saved`,
        });
        return '';
      }
      if (from.type !== scheme.type) {
        fields.push({ field, message: `keeps a secret of saved scheme ${si}, a ${from.type} scheme: a ${scheme.type} scheme can keep only a ${scheme.type} scheme's secrets (type the new secret instead)` });
        return '';
      }
      const secret = from.secrets[sj];
      if (secret === undefined) {
        fields.push({ field, message: `keeps secret ${sj} of saved scheme ${si}, which has ${from.secrets.length} secret${from.secrets.length === 1 ? '' : 's'} (0 to ${from.secrets.length - 1})` });
        return '';
      }
      return secret;
    });
    return { ...scheme, secrets };
  });
  if (fields.length) {
    throw new HttpError(400, 'invalid_field', fields.map((f) => `${f.field}: ${f.message}`).join('; '), fields[0].field, fields);
  }
  // Each scheme as given, its secrets now all strings: the shape VerifySettingsInput gives.
  return { schemes, ...(input.idempotency && { idempotency: input.idempotency }) } as VerifySettingsT;
}

/**
 * A body that keeps saved secrets must say which revision it read them from: If-Match with
 * exactly one ETag (not "*", not a list). A wrong ETag is 412 (checkIfMatch); none is 428.
 */
export function requireOneEtag(ifMatch: string | undefined): void {
  const tags = (ifMatch ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (tags.length === 1 && tags[0] !== '*') return;
  throw new HttpError(
    428,
    'precondition_required',
    'this body keeps saved secrets ({"keep": …}), which are named by where they were in the settings you read: send If-Match with the one ETag that GET /api/bins/:id/verify answered with them',
  );
}
