// The signature settings form keeps saved secrets: what it sends names each kept one by where
// it was loaded (accepted by the server's own PUT schema), follows a scheme moved or edited,
// drops them for a scheme whose sender changed, and names a refused one in the form's terms.
import { describe, expect, it } from 'vitest';
import { fieldErrors } from '../../shared/schema/common.ts';
import { VerifySettingsPut, type VerifySettingsViewT } from '../../shared/schema/verify.ts';
import { placeErrors } from '../../client/src/lib/field-errors.ts';
import { verifySlots } from '../../client/src/lib/verify-form.ts';
import { describeKeepError, formToPut, keepsAny, newScheme, noSecretsMessage, otherTypeNote, viewToKeepForm, withType } from '../../client/src/lib/verify-keep.ts';

const VIEW: VerifySettingsViewT = {
  schemes: [
    { type: 'standard-webhooks', toleranceSec: 300, secrets: [{ last4: 'AAA=', length: 40 }, { last4: 'BBB=', length: 40 }] },
    { type: 'stripe', secrets: [{ last4: 'cdef', length: 30 }] },
  ],
  idempotency: { header: 'X-Id' },
};

describe('verify form: kept secrets', () => {
  it('sends references for the saved secrets when only a tolerance changed; the server schema accepts them', () => {
    const f = viewToKeepForm(VIEW);
    expect(keepsAny(f)).toBe(true);
    f.schemes[0].toleranceSec = '600';
    const out = formToPut(f);
    expect(VerifySettingsPut.safeParse(out).success).toBe(true);
    expect(out).toEqual({
      schemes: [
        { type: 'standard-webhooks', toleranceSec: 600, secrets: [{ keep: { scheme: 0, secret: 0 } }, { keep: { scheme: 0, secret: 1 } }] },
        { type: 'stripe', secrets: [{ keep: { scheme: 1, secret: 0 } }] },
      ],
      idempotency: { header: 'X-Id' },
    });
  });

  it('follows a moved scheme, drops a removed secret, adds typed ones after the kept (a rotation)', () => {
    const f = viewToKeepForm(VIEW);
    f.schemes = [f.schemes[1], f.schemes[0], { ...newScheme('github'), secrets: 'gh-new\n' }];
    f.schemes[1].keep = [false, true];
    f.schemes[1].secrets = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    expect(formToPut(f).schemes.map((s) => s.secrets)).toEqual([
      [{ keep: { scheme: 1, secret: 0 } }],
      [{ keep: { scheme: 0, secret: 1 } }, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      ['gh-new'],
    ]);
  });

  it('keeps none for a scheme whose sender changed (and says so); changing it back keeps them again', () => {
    const f = viewToKeepForm(VIEW);
    f.schemes[1] = withType(f.schemes[1], 'github');
    expect(formToPut(f).schemes[1]).toEqual({ type: 'github', secrets: [] });
    expect(otherTypeNote(f.schemes[1])).toMatch(/^The saved secret \(…cdef\) was for Stripe, so it is not kept for GitHub: type this scheme's secret below/);
    expect(noSecretsMessage(f.schemes[1])).toBe('type the GitHub secret: the saved ones were for Stripe');
    expect(VerifySettingsPut.safeParse(formToPut(f)).success).toBe(false);
    f.schemes[1] = withType(f.schemes[1], 'stripe');
    expect(formToPut(f).schemes[1]).toEqual({ type: 'stripe', secrets: [{ keep: { scheme: 1, secret: 0 } }] });
    // Every saved secret removed and none typed: said in the form's terms.
    f.schemes[1].keep = [false];
    expect(noSecretsMessage(f.schemes[1])).toMatch(/^keep a saved secret or type a new one/);
    expect(keepsAny({ ...f, schemes: [f.schemes[1]] })).toBe(false);
  });

  it('names a refused secret as the saved one it kept, or by the line it was typed on', () => {
    const f = viewToKeepForm(VIEW);
    f.schemes[0].keep = [false, true];
    f.schemes[0].secrets = '\nwhsec_bad!!';
    const parsed = VerifySettingsPut.safeParse(formToPut(f));
    expect(parsed.success).toBe(false);
    const fields = [...fieldErrors(parsed.error!), { field: 'schemes[0].secrets[0]', message: 'keeps secret 1 of saved scheme 0, which has 1 secret (0 to 0)' }];
    expect(fields.map((x) => x.field)).toEqual(['schemes[0].secrets[1]', 'schemes[0].secrets[0]']);
    const { errors, rest } = placeErrors(fields, verifySlots(f), undefined, describeKeepError(f));
    expect(rest).toEqual([]);
    expect(errors['schemes[0].secrets']).toMatch(/^line 2: must be a Standard Webhooks secret.*; saved secret …BBB=: keeps secret 1/);
  });
});
