// The header lookups every signature check makes: on the flat rawHeaders list itself, names in
// any case, repeated headers kept in order.
import { describe, expect, it } from 'vitest';
import { first, indexHeaders } from '../../server/verify/headers.ts';

describe('header lookups', () => {
  const h = indexHeaders(['Host', 'x', 'Webhook-Signature', 'v1,a', 'content-type', 'text/plain', 'WEBHOOK-SIGNATURE', 'v1,b', 'webhook-id', 'msg_1']);

  it('finds a header whatever the case it was sent in, every value in order', () => {
    expect(h.get('webhook-signature')).toEqual(['v1,a', 'v1,b']);
    expect(first(h, 'webhook-signature')).toBe('v1,a');
    expect(h.has('webhook-id')).toBe(true);
    expect(first(h, 'webhook-id')).toBe('msg_1');
  });

  it('answers undefined / false for an absent header, a value never matching as a name', () => {
    expect(h.get('svix-signature')).toBeUndefined();
    expect(h.has('svix-signature')).toBe(false);
    expect(first(h, 'svix-signature')).toBeUndefined();
    expect(h.has('x')).toBe(false);
    expect(h.has('msg_1')).toBe(false);
    expect(indexHeaders([]).get('host')).toBeUndefined();
  });
});
