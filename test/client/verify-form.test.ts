// The signature settings form against the server's own schema: what it sends is what the
// server accepts, blank optional fields go out as defaults, saved secrets are never in it.
import { describe, expect, it } from 'vitest';
import { fieldErrors } from '../../shared/schema/common.ts';
import { VerifySettingsInput } from '../../shared/schema/verify.ts';
import { placeErrors } from '../../client/src/lib/field-errors.ts';
import { describeVerifyError, emptyScheme, formToSettings, secretLines, verifySlots, viewToForm } from '../../client/src/lib/verify-form.ts';

describe('verify form', () => {
  it('sends what the server accepts, for every scheme type', () => {
    const form = viewToForm({ schemes: [] });
    form.schemes = (['standard-webhooks', 'stripe', 'github', 'shopify', 'slack', 'hmac'] as const).map((t) => ({
      ...emptyScheme(t),
      secrets: t === 'standard-webhooks' ? 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n\n' : ' s3cret \nold-secret',
    }));
    form.schemes[1].toleranceSec = '600';
    form.idemHeader = 'Idempotency-Key';
    const out = formToSettings(form);
    const parsed = VerifySettingsInput.safeParse(out);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(out.schemes[1]).toEqual({ type: 'stripe', secrets: ['s3cret', 'old-secret'], toleranceSec: 600 });
    expect(out.schemes[5]).toEqual({ type: 'hmac', secrets: ['s3cret', 'old-secret'], header: 'X-Signature', algorithm: 'sha256', encoding: 'hex' });
    expect(out.idempotency).toEqual({ header: 'Idempotency-Key' });
  });

  it('reads a saved view back: hints, never secrets; a save needs them typed again', () => {
    const form = viewToForm({
      schemes: [{ type: 'hmac', header: 'X-Sig', algorithm: 'sha1', encoding: 'base64', signed: 'timestamp+body', timestampHeader: 'X-Ts', toleranceSec: 60, secrets: [{ last4: 'wxyz', length: 32 }] }],
      idempotency: { jsonPath: 'data.id' },
    });
    expect(form.schemes[0]).toMatchObject({ type: 'hmac', header: 'X-Sig', algorithm: 'sha1', signed: 'timestamp+body', timestampHeader: 'X-Ts', toleranceSec: '60', secrets: '', saved: [{ last4: 'wxyz', length: 32 }] });
    expect(formToSettings(form).schemes[0]).toMatchObject({ secrets: [], timestampHeader: 'X-Ts', toleranceSec: 60 });
    expect(VerifySettingsInput.safeParse(formToSettings(form)).success).toBe(false);
    expect(verifySlots(form)).toContain('schemes[0].timestampHeader');
  });

  it("names a refused secret by its line as typed (blank lines counted), on its scheme's Secrets field, not by the API's path", () => {
    const form = viewToForm({ schemes: [] });
    form.schemes = [
      { ...emptyScheme('github'), secrets: 'gh-secret' },
      { ...emptyScheme('standard-webhooks'), secrets: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n\nwhsec_bad!!\n' },
      { ...emptyScheme('hmac'), secrets: 's', prefix: 'x'.repeat(65) },
    ];
    expect(secretLines(form.schemes[1])).toEqual([1, 3]);
    // What the server answers (its own schema and path format).
    const parsed = VerifySettingsInput.safeParse(formToSettings(form));
    expect(parsed.success).toBe(false);
    const fields = fieldErrors(parsed.error!);
    expect(fields.map((f) => f.field)).toEqual(['schemes[1].secrets[1]', 'schemes[2].prefix']);
    const { errors, rest } = placeErrors(fields, verifySlots(form), undefined, describeVerifyError(form));
    expect(rest).toEqual([]);
    expect(errors['schemes[1].secrets']).toMatch(/^line 3: must be a Standard Webhooks secret/);
    expect(errors['schemes[2].prefix']).not.toContain('schemes[');
    // Under a scheme's box but no field of its own: named from the scheme, not by its path.
    const describe = describeVerifyError(form);
    expect(describe('schemes[0].extra', 'schemes[0]', 'is not a known setting')).toBe('extra: is not a known setting');
    expect(describe('schemes[1].secrets[7]', 'schemes[1].secrets', 'too long')).toBe('secret 8: too long');
  });
});
