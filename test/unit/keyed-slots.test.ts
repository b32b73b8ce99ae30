import { describe, expect, it } from 'vitest';
import { KeyedSlots } from '../../server/lib/keyed-slots.ts';
import { clientKey } from '../../server/net/client-key.ts';

describe('KeyedSlots', () => {
  it('caps per key and in total; a release counts once', () => {
    const b = new KeyedSlots(3, 2);
    const a1 = b.take('a');
    const a2 = b.take('a');
    expect(typeof a1).toBe('function');
    expect(typeof a2).toBe('function');
    expect(b.take('a')).toBe('key');
    expect(b.heldBy('a')).toBe(2);
    const c1 = b.take('c');
    expect(typeof c1).toBe('function');
    expect(b.take('d')).toBe('total');
    expect(b.size).toBe(3);
    (a1 as () => void)();
    (a1 as () => void)(); // twice: still one slot back
    expect(b.size).toBe(2);
    expect(b.heldBy('a')).toBe(1);
    expect(typeof b.take('d')).toBe('function');
    expect(b.take('e')).toBe('total');
    (a2 as () => void)();
    expect(b.heldBy('a')).toBe(0);
    expect(typeof b.take('a')).toBe('function');
  });

  it('a slot without a key counts in the total only', () => {
    const b = new KeyedSlots(3, 1);
    const n1 = b.take(null);
    expect(typeof n1).toBe('function');
    expect(typeof b.take(null)).toBe('function');
    expect(typeof b.take('a')).toBe('function');
    expect(b.take(null)).toBe('total');
    (n1 as () => void)();
    expect(b.take('a')).toBe('key');
    expect(typeof b.take(null)).toBe('function');
  });
});

describe('clientKey', () => {
  it('keeps IPv4 addresses, and IPv4 addresses written as IPv6', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::FFFF:cb00:7107')).toBe('203.0.113.7');
  });

  it('counts an IPv6 client by its /64, however the address is written', () => {
    const k = clientKey('2001:db8:1:2::1');
    expect(k).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe(k);
    expect(clientKey('2001:DB8:1:2:aaaa::9%eth0')).toBe(k);
    expect(clientKey('2001:db8:1:3::1')).not.toBe(k);
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('leaves what is not an address as it is', () => {
    expect(clientKey('')).toBe('');
    expect(clientKey('not an ip')).toBe('not an ip');
  });
});
