// Verification settings as answers show them: secrets are write-only, each shown only as its
// last characters and its length.
import type { SecretHintT, VerifySettingsT, VerifySettingsViewT } from '../../shared/schema/verify.ts';

/** The last 4 characters, but never more than a quarter of the secret (a short one stays hidden). */
export function secretHint(secret: string): SecretHintT {
  const n = Math.min(4, Math.floor(secret.length / 4));
  return { last4: n > 0 ? secret.slice(-n) : '', length: secret.length };
}

export function settingsView(settings: VerifySettingsT): VerifySettingsViewT {
  return {
    schemes: settings.schemes.map((s) => ({ ...s, secrets: s.secrets.map(secretHint) })),
    ...(settings.idempotency && { idempotency: settings.idempotency }),
  };
}
