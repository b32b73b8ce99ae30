// Issue 14: the verification settings' validation (messages as every other 400 words them), the
// write-only view of secrets, and that the schemas document themselves in OpenAPI.
import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { secretHint, settingsView } from '../../server/verify/index.ts';
import { fieldErrors } from '../../shared/schema/common.ts';
import * as V from '../../shared/schema/verify.ts';
import { toleranceWords } from '../../shared/tolerance.ts';

const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const errors = (input: unknown) => {
  const r = V.VerifySettingsInput.safeParse(input);
  return r.success ? [] : fieldErrors(r.error);
};
const schemes = (...s: unknown[]) => ({ schemes: s });

describe('VerifySettingsInput', () => {
  it('takes every scheme type, several secrets, and idempotency settings', () => {
    const input = {
      schemes: [
        { type: 'standard-webhooks', secrets: [WHSEC, 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], toleranceSec: 300 },
        { type: 'stripe', secrets: ['whsec_abc'], toleranceSec: 600 },
        { type: 'github', secrets: ['gh'] },
        { type: 'shopify', secrets: ['shp'] },
        { type: 'slack', secrets: ['sl'] },
        { type: 'hmac', secrets: ['k'], header: 'X-Signature', algorithm: 'sha1', encoding: 'base64', prefix: 'sha1=' },
        { type: 'hmac', secrets: ['k'], header: 'X-Sig', algorithm: 'sha512', encoding: 'hex', signed: 'timestamp+body', timestampHeader: 'X-Ts', separator: ':', toleranceSec: 60 },
      ],
      idempotency: { header: 'X-Event-Id', jsonPath: 'data.id' },
    };
    expect(V.VerifySettingsInput.parse(input)).toEqual(input);
    expect(errors({ schemes: [] })).toEqual([]);
  });

  it('says what is wrong, field by field', () => {
    // A missing field is "required"; a field of the wrong type is worded by its type.
    expect(errors({})).toEqual([{ field: 'schemes', message: 'is required' }]);
    expect(errors(schemes({ secrets: ['x'] }))).toEqual([{ field: 'schemes[0].type', message: 'is required' }]);
    expect(errors(schemes({ type: 'paypal', secrets: ['x'] }))).toEqual([
      { field: 'schemes[0].type', message: 'must be one of: standard-webhooks, stripe, github, shopify, slack, hmac' },
    ]);
    expect(errors(schemes('github'))).toEqual([{ field: 'schemes[0]', message: 'must be a JSON object' }]);
    expect(errors(schemes({ type: 'github' }))).toEqual([{ field: 'schemes[0].secrets', message: 'is required' }]);
    expect(errors(schemes({ type: 'github', secrets: [] }))).toEqual([{ field: 'schemes[0].secrets', message: 'must list at least one secret' }]);
    expect(errors(schemes({ type: 'github', secrets: [''] }))).toEqual([{ field: 'schemes[0].secrets[0]', message: 'must not be empty' }]);
    expect(errors(schemes({ type: 'standard-webhooks', secrets: [WHSEC, 'whsec_not base64!'] }))).toEqual([
      { field: 'schemes[0].secrets[1]', message: 'must be a Standard Webhooks secret: "whsec_" followed by base64' },
    ]);
    expect(errors(schemes({ type: 'github', secrets: ['x'], toleranceSec: 5 }))).toEqual([{ field: 'schemes[0].toleranceSec', message: 'unknown field (allowed: type, secrets)' }]);
    expect(errors(schemes({ type: 'stripe', secrets: ['x'], toleranceSec: 0 }))).toEqual([{ field: 'schemes[0].toleranceSec', message: 'must be from 1 to 2592000' }]);
    expect(errors(schemes({ type: 'github', secrets: Array(11).fill('x') }))).toEqual([{ field: 'schemes[0].secrets', message: 'at most 10 entries' }]);
  });

  it('generic HMAC: required fields, and the timestamp fields only with "timestamp+body"', () => {
    expect(errors(schemes({ type: 'hmac', secrets: ['k'] }))).toEqual([
      { field: 'schemes[0].header', message: 'is required' },
      { field: 'schemes[0].algorithm', message: 'is required' },
      { field: 'schemes[0].encoding', message: 'is required' },
    ]);
    expect(errors(schemes({ type: 'hmac', secrets: ['k'], header: 7, algorithm: 'sha256', encoding: 'hex' }))).toEqual([{ field: 'schemes[0].header', message: 'must be a string' }]);
    const base = { type: 'hmac', secrets: ['k'], header: 'X-Sig', algorithm: 'md5', encoding: 'hex' };
    expect(errors(schemes(base))).toEqual([{ field: 'schemes[0].algorithm', message: 'must be one of: sha1, sha256, sha512' }]);
    const ok = { ...base, algorithm: 'sha256' };
    expect(errors(schemes({ ...ok, header: 'X Sig' }))[0]).toEqual({ field: 'schemes[0].header', message: "must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~)" });
    expect(errors(schemes({ ...ok, signed: 'timestamp+body' }))).toEqual([{ field: 'schemes[0].timestampHeader', message: 'is required when signed is "timestamp+body"' }]);
    expect(errors(schemes({ ...ok, timestampHeader: 'X-Ts', toleranceSec: 10 }))).toEqual([
      { field: 'schemes[0].timestampHeader', message: 'applies only when signed is "timestamp+body"' },
      { field: 'schemes[0].toleranceSec', message: 'applies only when signed is "timestamp+body"' },
    ]);
  });

  it('idempotency settings', () => {
    const joined = 'must be field names joined by dots, e.g. "id", "data.event_id" or "$.data.items.0.id" (a number picks an array item; no brackets or wildcards)';
    for (const jsonPath of ['a..b', 'data[0].id', '$.data.*']) expect(errors({ schemes: [], idempotency: { jsonPath } }), jsonPath).toEqual([{ field: 'idempotency.jsonPath', message: joined }]);
    expect(errors({ schemes: [], idempotency: { jsonPath: '$.data.id' } })).toEqual([]);
    // Stripped of spaces or a line break pasted with it: refused, said why (each scheme's secrets).
    for (const type of ['stripe', 'github', 'standard-webhooks']) {
      expect(errors({ schemes: [{ type, secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n'] }] }), type).toEqual([
        { field: 'schemes[0].secrets[0]', message: 'has spaces or a line break at its start or end (a paste mistake?): remove them' },
      ]);
    }
    expect(errors({ schemes: [], idempotency: { path: 'id' } })).toEqual([{ field: 'idempotency.path', message: 'unknown field (allowed: header, jsonPath)' }]);
  });
});

describe('the settings view: secrets are write-only', () => {
  it('shows each secret as its last 4 characters and length, never the secret', () => {
    const settings = V.VerifySettingsInput.parse({
      schemes: [
        { type: 'standard-webhooks', secrets: [WHSEC, 'whsec_c2Vjb25kIHNlY3JldCBmb3IgdGVzdGluZyByb3RhdGlvbg=='], toleranceSec: 120 },
        { type: 'hmac', secrets: ['abc'], header: 'X-Sig', algorithm: 'sha256', encoding: 'hex' },
      ],
      idempotency: { header: 'X-Id' },
    });
    const view = settingsView(settings);
    expect(V.VerifySettingsView.parse(view)).toEqual(view);
    expect(view).toEqual({
      schemes: [
        { type: 'standard-webhooks', toleranceSec: 120, secrets: [{ last4: 'LaSw', length: 38 }, { last4: 'bg==', length: 54 }] },
        { type: 'hmac', header: 'X-Sig', algorithm: 'sha256', encoding: 'hex', secrets: [{ last4: '', length: 3 }] },
      ],
      idempotency: { header: 'X-Id' },
    });
    expect(JSON.stringify(view)).not.toContain(WHSEC);
  });

  it('never shows more than a quarter of a short secret', () => {
    expect(secretHint('12345678')).toEqual({ last4: '78', length: 8 });
    expect(secretHint('1234567890abcdef')).toEqual({ last4: 'cdef', length: 16 });
  });
});

describe('OpenAPI', () => {
  it('documents the settings, their view and the results', () => {
    // As server/api/openapi.ts does: shared schemas name themselves with .meta({ id }).
    extendZodWithOpenApi(z);
    const reg = new OpenAPIRegistry();
    const json = (schema: z.ZodType) => ({ description: '', content: { 'application/json': { schema } } });
    reg.registerPath({
      method: 'put',
      path: '/api/bins/{binId}/verify',
      request: { body: { content: { 'application/json': { schema: V.VerifySettingsInput } } } },
      responses: { 200: json(V.VerifySettingsView), 201: json(z.object({ verification: V.Verification, idempotency: V.IdempotencyKey.nullable(), attempt: V.AttemptInfo.nullable() })) },
    });
    const doc = new OpenApiGeneratorV31(reg.definitions).generateDocument({ openapi: '3.1.0', info: { title: 't', version: '0' } }) as {
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['VerifySettingsInput', 'VerifyScheme', 'VerifySettingsView', 'Verification', 'VerifyDetails', 'SecretHint']));
    expect(JSON.stringify(doc.components.schemas.VerifyScheme)).toContain('standard-webhooks');
  });
});

describe('tolerance in words', () => {
  it("Stripe's is past-only (its libraries accept a timestamp from the future); the others' either way", () => {
    expect(toleranceWords('stripe', '5 min')).toBe('5 min in the past (a timestamp from the future passes)');
    for (const t of ['standard-webhooks', 'slack', 'hmac'] as const) expect(toleranceWords(t, '300 s')).toBe('±300 s');
    const doc = z.toJSONSchema(V.VerifyScheme, { io: 'input' }) as unknown as { $defs: { VerifyScheme: { oneOf: { properties: { type: { const: string }; toleranceSec?: { description: string } } }[] } } };
    const described = Object.fromEntries(doc.$defs.VerifyScheme.oneOf.filter((o) => o.properties.toleranceSec).map((o) => [o.properties.type.const, o.properties.toleranceSec!.description]));
    expect(described.stripe).toMatch(/^How old \(seconds\).*one from the future passes/);
    expect(described.stripe).not.toContain('either way');
    for (const t of ['standard-webhooks', 'slack', 'hmac']) expect(described[t]).toContain('either way');
  });
});
