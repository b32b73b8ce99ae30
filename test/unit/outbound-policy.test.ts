// Where outbound calls may go (server/net/outbound-policy.ts): pure, so every range is a
// plain table here.
import { describe, expect, it } from 'vitest';
import { createOutboundPolicy, ipBytes, isLoopbackHost, nonPublicKind } from '../../server/net/outbound-policy.ts';

const exposed = (o: { allow?: string[]; publicUrl?: string } = {}) =>
  createOutboundPolicy({ host: '0.0.0.0', allow: o.allow ?? null, publicUrl: () => o.publicUrl ?? 'http://192.168.1.5:8080' });
const url = (u: string) => new URL(u);

describe('address kinds', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fec0::1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.254', 'CGNAT'],
    ['0.0.0.0', 'this network'],
    ['0.1.2.3', 'this network'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['::7f00:1', 'reserved'],
    // IPv4 inside IPv6: the IPv4 decides.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:0.0.0.0', 'this network'],
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['64:ff9b::192.168.1.1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
  ])('%s is %s', (ip, kind) => {
    expect(nonPublicKind(ip)).toContain(kind);
  });

  it.each(['1.1.1.1', '8.8.8.8', '93.184.215.14', '100.63.255.255', '100.128.0.1', '172.15.255.255', '172.32.0.1', '169.253.1.1', '2606:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8'])(
    '%s is public',
    (ip) => {
      expect(nonPublicKind(ip)).toBeNull();
    },
  );

  it('parses every IPv6 spelling to the same bytes', () => {
    const a = ipBytes('::ffff:127.0.0.1');
    expect(a).toHaveLength(16);
    expect(ipBytes('::ffff:7f00:1')).toEqual(a);
    expect(ipBytes('0:0:0:0:0:ffff:7f00:0001')).toEqual(a);
    expect(ipBytes('example.com')).toBeNull();
  });

  it('knows loopback HOST values', () => {
    for (const h of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', 'hooks.example.com']) expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe('HOST public, no DISPATCH_ALLOW: public addresses only', () => {
  const p = exposed();

  it('is the public-only mode', () => {
    expect(p.mode).toBe('public-only');
    expect(createOutboundPolicy({ host: '::', allow: null, publicUrl: () => 'http://x' }).mode).toBe('public-only');
    expect(createOutboundPolicy({ host: '192.168.1.5', allow: null, publicUrl: () => 'http://x' }).mode).toBe('public-only');
  });

  it.each([
    'http://127.0.0.1:8080/x',
    'http://127.1/',
    'http://2130706433/',
    'http://0x7f.0.0.1/',
    'http://[::1]:9000/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://10.1.2.3/',
    'http://172.20.0.1/',
    'http://192.168.1.1/admin',
    'http://[fd00::1]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]/',
    'http://100.64.1.1/',
    'http://0.0.0.0:8080/',
    'http://[::]/',
    'http://224.0.0.1/',
    'https://255.255.255.255/',
  ])('refuses the literal %s, saying why', (u) => {
    const v = p.checkUrl(url(u));
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.reason).toMatch(/ is (a|an|the) /);
      expect(v.reason).toContain('hooklab listens on a public interface, so outbound calls to private networks need DISPATCH_ALLOW');
    }
  });

  it('says what a loopback address is, in plain words', () => {
    expect(p.checkUrl(url('http://127.0.0.1:3000/x'))).toEqual({
      ok: false,
      reason: '127.0.0.1 is a loopback address; hooklab listens on a public interface, so outbound calls to private networks need DISPATCH_ALLOW',
    });
  });

  it.each(['http://metadata.google.internal/computeMetadata/v1/', 'http://METADATA.google.internal./', 'http://metadata/', 'http://instance-data/latest/'])(
    'refuses the metadata host name in %s',
    (u) => {
      const v = p.checkUrl(url(u));
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.reason).toMatch(/metadata host name/);
    },
  );

  it('lets public literals through, and sends names on to the connect-time check', () => {
    expect(p.checkUrl(url('https://8.8.8.8/hook'))).toEqual({ ok: true, checkAddresses: false });
    expect(p.checkUrl(url('http://[2606:4700::1111]/'))).toEqual({ ok: true, checkAddresses: false });
    expect(p.checkUrl(url('https://hooks.example.com/x'))).toEqual({ ok: true, checkAddresses: true });
    expect(p.checkUrl(url('http://localhost:8080/x'))).toEqual({ ok: true, checkAddresses: true });
  });

  it('checks resolved addresses: private ones are refused, naming the name and the address', () => {
    expect(p.checkAddress('rebind.example', '93.184.215.14')).toBeNull();
    expect(p.checkAddress('localhost', '127.0.0.1')).toBe(
      'localhost resolves to 127.0.0.1, a loopback address; hooklab listens on a public interface, so outbound calls to private networks need DISPATCH_ALLOW',
    );
    for (const a of ['10.0.0.7', '169.254.169.254', '::1', '::ffff:192.168.0.1', 'fe80::1%eth0', '100.100.100.100', '0.0.0.0']) {
      expect(p.checkAddress('rebind.example', a), a).toMatch(/^rebind\.example resolves to /);
    }
  });

  it("allows our own receiver URLs (PUBLIC_URL's origin and /h/) even on a private address", () => {
    expect(p.checkUrl(url('http://192.168.1.5:8080/h/abc/x?y=1'))).toEqual({ ok: true, checkAddresses: false });
    // Not the receiver, another port, another scheme, or a path that only looks like it.
    for (const u of ['http://192.168.1.5:8080/api/bins', 'http://192.168.1.5:8081/h/abc', 'https://192.168.1.5:8080/h/abc', 'http://192.168.1.5:8080/hx/abc', 'http://192.168.1.5:8080/h/../api/bins']) {
      expect(p.checkUrl(url(u)).ok, u).toBe(false);
    }
    // A name: the exception skips the address check (it resolves to a LAN address).
    const named = exposed({ publicUrl: 'http://hooklab.lan:8080' });
    expect(named.checkUrl(url('http://HOOKLAB.lan:8080/h/abc'))).toEqual({ ok: true, checkAddresses: false });
    expect(named.checkUrl(url('http://hooklab.lan:8080/api/bins'))).toEqual({ ok: true, checkAddresses: true });
    // Default ports and a path prefix in PUBLIC_URL.
    const https = exposed({ publicUrl: 'https://10.0.0.2/hooklab' });
    expect(https.checkUrl(url('https://10.0.0.2:443/hooklab/h/abc')).ok).toBe(true);
    expect(https.checkUrl(url('https://10.0.0.2/h/abc')).ok).toBe(false);
  });

  it('reads PUBLIC_URL when it checks (it follows the bound port)', () => {
    let pub = 'http://localhost:0';
    const q = createOutboundPolicy({ host: '0.0.0.0', allow: null, publicUrl: () => pub });
    expect(q.checkUrl(url('http://127.0.0.1:4321/h/abc')).ok).toBe(false);
    pub = 'http://127.0.0.1:4321';
    expect(q.checkUrl(url('http://127.0.0.1:4321/h/abc')).ok).toBe(true);
  });
});

describe('DISPATCH_ALLOW set: only what it lists, private or not', () => {
  const p = exposed({ allow: ['127.0.0.1', '10.0.0.0/8', 'hooks.example.com', '*.corp.example'] });

  it('is the allow-list mode, whatever HOST is', () => {
    expect(p.mode).toBe('allow-list');
    expect(createOutboundPolicy({ host: '127.0.0.1', allow: ['a.com'], publicUrl: () => 'http://x' }).mode).toBe('allow-list');
  });

  it('lets listed private addresses through and refuses unlisted public ones', () => {
    expect(p.checkUrl(url('http://127.0.0.1:3000/'))).toEqual({ ok: true, checkAddresses: false });
    expect(p.checkUrl(url('http://10.9.9.9/'))).toEqual({ ok: true, checkAddresses: false });
    expect(p.checkUrl(url('http://8.8.8.8/'))).toEqual({ ok: false, reason: '8.8.8.8 is not in DISPATCH_ALLOW' });
    expect(p.checkUrl(url('https://hooks.example.com/x'))).toEqual({ ok: true, checkAddresses: false });
    expect(p.checkUrl(url('https://a.corp.example/x'))).toEqual({ ok: true, checkAddresses: false });
    expect(p.checkUrl(url('https://other.example/x'))).toEqual({ ok: true, checkAddresses: true });
    expect(p.checkAddress('other.example', '10.1.1.1')).toBeNull();
    expect(p.checkAddress('other.example', '93.184.215.14')).toBe('other.example is not in DISPATCH_ALLOW');
  });
});

describe("hooklab's own receiver URLs: reachable under DISPATCH_ALLOW too (a bin of this hooklab is the dispatcher's first target)", () => {
  it("PUBLIC_URL's origin, under its path; nothing else there", () => {
    const p = exposed({ allow: ['hooks.example.com'], publicUrl: 'http://192.168.1.5:8080' });
    expect(p.checkUrl(url('http://192.168.1.5:8080/h/abc'))).toEqual({ ok: true, checkAddresses: false });
    expect(p.checkUrl(url('http://192.168.1.5:8080/api/bins'))).toEqual({ ok: false, reason: '192.168.1.5 is not in DISPATCH_ALLOW' });
    const under = exposed({ allow: ['a.com'], publicUrl: 'https://example.com/hooklab' });
    expect(under.checkUrl(url('https://example.com/hooklab/h/abc'))).toEqual({ ok: true, checkAddresses: false });
    // Not under PUBLIC_URL's path: no receiver, so its name is checked at connect time as any other.
    expect(under.checkUrl(url('https://example.com/h/abc'))).toEqual({ ok: true, checkAddresses: true });
  });

  it("only PUBLIC_URL's origin: a loopback URL on the same port may be another program (hooklab bound elsewhere), so its address is checked", () => {
    const p = createOutboundPolicy({ host: '192.0.2.2', allow: ['example.com'], publicUrl: () => 'http://192.0.2.2:3000' });
    expect(p.checkUrl(url('http://127.0.0.1:3000/h/abc'))).toEqual({ ok: false, reason: '127.0.0.1 is not in DISPATCH_ALLOW' });
    expect(p.checkUrl(url('http://[::1]:3000/h/abc'))).toEqual({ ok: false, reason: '::1 is not in DISPATCH_ALLOW' });
    const open = createOutboundPolicy({ host: '0.0.0.0', allow: null, publicUrl: () => 'http://203.0.113.9:3000' });
    expect(open.checkUrl(url('http://127.0.0.1:3000/h/abc')).ok).toBe(false);
  });

  it('no dot segment however encoded: a proxy that decodes %2F before resolving dots would go elsewhere', () => {
    const p = exposed({ allow: ['a.com'], publicUrl: 'https://gw.internal/hooklab' });
    for (const path of ['/hooklab/h/..%2F..%2Fadmin', '/hooklab/h/x/%2e%2e%2fadmin', '/hooklab/h/..%5cadmin']) {
      expect(p.checkUrl(url(`https://gw.internal${path}`)), path).toEqual({ ok: true, checkAddresses: true }); // judged by its address, as any URL
    }
    const q = exposed({ publicUrl: 'http://192.168.1.5:8080' });
    expect(q.checkUrl(url('http://192.168.1.5:8080/h/..%2F..%2Fadmin')).ok).toBe(false);
  });
});

describe('HOST loopback, no DISPATCH_ALLOW: anything (a developer machine)', () => {
  it('allows every address, without a connect-time check', () => {
    const p = createOutboundPolicy({ host: '127.0.0.1', allow: null, publicUrl: () => 'http://localhost:8080' });
    expect(p.mode).toBe('open');
    for (const u of ['http://127.0.0.1:1/', 'http://169.254.169.254/', 'http://metadata.google.internal/', 'https://example.com/']) {
      expect(p.checkUrl(url(u)), u).toEqual({ ok: true, checkAddresses: false });
    }
    expect(p.checkAddress('x', '10.0.0.1')).toBeNull();
  });
});
