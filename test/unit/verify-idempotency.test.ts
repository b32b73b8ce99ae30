// Issue 14: idempotency keys from each source, attempts grouped by key, and the flag for a
// sender whose retries carry a new key each time (same body, different keys).
import { describe, expect, it } from 'vitest';
import { bodySha256, groupAttempts, idempotencyKey } from '../../server/verify/index.ts';
import { IdempotencyKey, VerifySettingsInput } from '../../shared/schema/verify.ts';

const req = (headers: string[], body = '') => ({ headers, body: Buffer.from(body) });
const key = (...a: Parameters<typeof idempotencyKey>) => {
  const k = idempotencyKey(...a);
  if (k) IdempotencyKey.parse(k);
  return k;
};
const withIdem = (idempotency: unknown) => VerifySettingsInput.parse({ schemes: [], idempotency });

describe('idempotencyKey', () => {
  it('reads the well-known headers, case-insensitively', () => {
    expect(key(null, req(['Webhook-Id', 'msg_1']))).toEqual({ key: 'msg_1', source: 'webhook-id' });
    expect(key(null, req(['svix-id', 'msg_2']))).toEqual({ key: 'msg_2', source: 'svix-id' });
    expect(key(null, req(['X-GitHub-Delivery', '72d3162e-cc78-11e3-81ab-4c9367dc0958']))).toEqual({ key: '72d3162e-cc78-11e3-81ab-4c9367dc0958', source: 'x-github-delivery' });
  });

  it('with both svix-id and webhook-id, keys by svix-id: the id the signature covers', () => {
    expect(key(null, req(['svix-id', 'sv1', 'webhook-id', 'wh1']))).toEqual({ key: 'sv1', source: 'svix-id' });
    expect(key(null, req(['webhook-id', 'wh1', 'Svix-Id', 'sv1']))).toEqual({ key: 'sv1', source: 'svix-id' });
  });

  it("reads a Stripe event's top-level id, and only an event's", () => {
    const event = JSON.stringify({ id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy', object: 'event', type: 'invoice.paid', data: { object: { id: 'in_1', object: 'invoice' } } });
    expect(key(null, req(['content-type', 'application/json'], event))).toEqual({ key: 'evt_1NG8Du2eZvKYlo2CUI79vXWy', source: 'stripe-event-id' });
    expect(key(null, req([], JSON.stringify({ id: 'in_1', object: 'invoice', note: '"event"' })))).toBeNull();
    expect(key(null, req([], JSON.stringify({ data: { id: 'evt_x', object: 'event' } })))).toBeNull();
    expect(key(null, req([], '{"object":"event", broken'))).toBeNull();
  });

  it('a header or JSON path the user names comes first', () => {
    const body = JSON.stringify({ id: 'evt_1', object: 'event', meta: { deliveries: [{ key: 'k-7' }], n: 42 } });
    const h = ['webhook-id', 'msg_1', 'X-Request-Key', 'rk_9'];
    expect(key(withIdem({ header: 'x-request-key' }), req(h, body))).toEqual({ key: 'rk_9', source: 'header' });
    expect(key(withIdem({ jsonPath: 'meta.deliveries.0.key' }), req(h, body))).toEqual({ key: 'k-7', source: 'json-path' });
    expect(key(withIdem({ jsonPath: 'meta.n' }), req([], body))).toEqual({ key: '42', source: 'json-path' });
    expect(key(withIdem({ jsonPath: '$.meta.n' }), req([], body))).toEqual({ key: '42', source: 'json-path' }); // JSONPath's root
    expect(key(null, req(['X-Shopify-Webhook-Id', 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043'], '{}'))).toEqual({ key: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043', source: 'x-shopify-webhook-id' });
    // Named but absent: the well-known sources still count.
    expect(key(withIdem({ header: 'X-Absent', jsonPath: 'nope.x' }), req(h, body))).toEqual({ key: 'msg_1', source: 'webhook-id' });
    expect(key(withIdem({ jsonPath: 'constructor' }), req([], '{}'))).toBeNull();
  });

  it('a number is keyed as written in the body: ids past 2^53 stay apart (JSON.parse would round them to one)', () => {
    const idPath = withIdem({ jsonPath: 'id' });
    expect(key(idPath, req([], '{"id":820982911946154508,"email":"a@example.com"}'))).toEqual({ key: '820982911946154508', source: 'json-path' });
    expect(key(idPath, req([], '{"id":820982911946154509,"email":"b@example.com"}'))).toEqual({ key: '820982911946154509', source: 'json-path' });
    // The last of repeated names (as JSON.parse keeps), escaped names, spacing, arrays, other forms.
    expect(key(idPath, req([], '{"id": 1, "\\u0069d" : 9007199254740993 }'))?.key).toBe('9007199254740993');
    const nested = '{"a":"x,]}\\"","data":{"items":[{"id":[1,2]},{"id":-12.50e3}]},"n":0}';
    expect(key(withIdem({ jsonPath: '$.data.items.1.id' }), req([], nested))?.key).toBe('-12.50e3');
    expect(key(withIdem({ jsonPath: 'data.items.0.id.1' }), req([], nested))?.key).toBe('2');
    expect(key(withIdem({ jsonPath: 'n' }), req([], nested))?.key).toBe('0');
    // A Stripe-style event with a numeric id too.
    expect(key(null, req([], '{"object":"event","id":12345678901234567890}'))).toEqual({ key: '12345678901234567890', source: 'stripe-event-id' });
  });

  it('shows a UTF-8 header value as text; keeps very long keys as their hash', () => {
    const latin1 = Buffer.from('clé-1', 'utf8').toString('latin1');
    expect(key(null, req(['webhook-id', latin1]))?.key).toBe('clé-1');
    const long = key(null, req(['webhook-id', 'x'.repeat(1000)]));
    expect(long?.key).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('none: null', () => {
    expect(key(null, req(['content-type', 'text/plain'], 'hello'))).toBeNull();
    expect(key(null, req(['webhook-id', '']))).toBeNull();
  });
});

describe('groupAttempts', () => {
  const A = bodySha256(Buffer.from('{"a":1}'));
  const B = bodySha256(Buffer.from('{"b":2}'));

  it('numbers attempts per key in arrival order', () => {
    const g = groupAttempts([
      { id: 'r1', key: 'msg_1', bodySha256: A },
      { id: 'r2', key: 'msg_2', bodySha256: B },
      { id: 'r3', key: 'msg_1', bodySha256: A },
      { id: 'r4', key: null, bodySha256: A },
      { id: 'r5', key: 'msg_1', bodySha256: A },
    ]);
    expect(g.groups).toEqual([
      { key: 'msg_1', ids: ['r1', 'r3', 'r5'] },
      { key: 'msg_2', ids: ['r2'] },
    ]);
    expect(g.byId.get('r5')).toEqual({ key: 'msg_1', attempt: 3, attempts: 3, keyChurn: false });
    expect(g.byId.get('r2')).toEqual({ key: 'msg_2', attempt: 1, attempts: 1, keyChurn: false });
    expect(g.byId.has('r4')).toBe(false);
    expect(g.keyChurn).toEqual([]);
  });

  it('flags retries with a different key each time: same body, different keys', () => {
    const g = groupAttempts([
      { id: 'r1', key: 'evt_a', bodySha256: A },
      { id: 'r2', key: 'msg_x', bodySha256: B },
      { id: 'r3', key: 'evt_b', bodySha256: A },
      { id: 'r4', key: 'evt_c', bodySha256: A },
      { id: 'r5', key: 'evt_c', bodySha256: A },
    ]);
    expect(g.keyChurn).toEqual([{ bodySha256: A, ids: ['r1', 'r3', 'r4', 'r5'], keys: ['evt_a', 'evt_b', 'evt_c'] }]);
    expect(['r1', 'r3', 'r4', 'r5'].map((id) => g.byId.get(id)?.keyChurn)).toEqual([true, true, true, true]);
    expect(g.byId.get('r2')?.keyChurn).toBe(false);
    expect(g.byId.get('r5')).toMatchObject({ key: 'evt_c', attempt: 2, attempts: 2 });
  });

  it('an empty body (or {}) under several keys is no retry: different pings look alike', () => {
    const empty = bodySha256(Buffer.alloc(0));
    const braces = bodySha256(Buffer.from('{}'));
    const g = groupAttempts([
      { id: 'r1', key: 'ping_1', bodySha256: empty },
      { id: 'r2', key: 'ping_2', bodySha256: empty },
      { id: 'r3', key: 'ping_3', bodySha256: braces },
      { id: 'r4', key: 'ping_4', bodySha256: braces },
    ]);
    expect(g.keyChurn).toEqual([]);
    expect(g.groups).toHaveLength(4);
  });

  it('a capture with no body hash (its body cut at MAX_BODY_BYTES) keeps its attempt, out of the body comparison', () => {
    const g = groupAttempts([
      { id: 'r1', key: 'evt_1', bodySha256: null },
      { id: 'r2', key: 'evt_2', bodySha256: null },
      { id: 'r3', key: 'evt_1', bodySha256: null },
    ]);
    expect(g.keyChurn).toEqual([]);
    expect(g.byId.get('r3')).toEqual({ key: 'evt_1', attempt: 2, attempts: 2, keyChurn: false });
  });

  it('bodySha256 is the hex SHA-256 of the raw bytes', () => {
    expect(bodySha256(Buffer.from(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
