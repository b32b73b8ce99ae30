// Where hooklab's own outbound calls (the dispatcher; later forwarding and replay) may go.
// Pure: the caller checks the URL before connecting and every resolved address at connect
// time (see checked-lookup.ts), so a DNS name cannot point a call somewhere else.
//
//   DISPATCH_ALLOW set            -> only the listed hosts / IPs / CIDRs (private ones too).
//   HOST loopback, no allow list  -> anything: a developer's machine, frictionless.
//   HOST public, no allow list    -> public addresses only. A stranger who can reach the API
//                                    must not use hooklab to read the LAN, the host's own
//                                    services or the cloud metadata endpoint.
// Our own receiver URLs (/h/... at PUBLIC_URL's origin, with no dot segment however encoded)
// are reachable under every rule: a bin of this hooklab is the dispatcher's first target. Only
// PUBLIC_URL's: a loopback origin on our port may be another program (hooklab bound elsewhere),
// and the exemption skips the address check.
import { isIP } from 'node:net';
import { RECEIVER_PREFIX } from '../../shared/api.ts';
import { hasDotSegment } from '../../shared/sub-path.ts';
import { type AllowList, parseAllowList } from './allow-list.ts';

export type UrlVerdict =
  /** checkAddresses: the host name's resolved addresses must still pass checkAddress. */
  { ok: true; checkAddresses: boolean } | { ok: false; reason: string };

export interface OutboundPolicy {
  readonly mode: 'open' | 'allow-list' | 'public-only';
  checkUrl(url: URL): UrlVerdict;
  /** At connect time, for each address `hostname` resolved to: null, or why not. */
  checkAddress(hostname: string, address: string): string | null;
}

export interface OutboundPolicyOptions {
  /** HOST, the interface hooklab listens on. */
  host: string;
  /** DISPATCH_ALLOW entries, or null. */
  allow: string[] | null;
  /** PUBLIC_URL, read when needed: it follows the bound port when it was not set. */
  publicUrl: () => string;
}

// Not a secret list, just names that lead to instance metadata (credentials) without DNS tricks.
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata', 'instance-data', 'instance-data.ec2.internal']);

const WHY = 'hooklab listens on a public interface, so outbound calls to private networks need DISPATCH_ALLOW';

type Range = [prefix: number[], bits: number, what: string];
const LOOPBACK = 'a loopback address';
const PRIVATE = 'a private address';
const LINK_LOCAL = 'a link-local address (cloud metadata lives there)';
const RESERVED = 'a reserved address';

const V4: Range[] = [
  [[0], 8, 'a "this network" address'],
  [[10], 8, PRIVATE],
  [[100, 64], 10, 'a shared (CGNAT) address'],
  [[127], 8, LOOPBACK],
  [[169, 254], 16, LINK_LOCAL],
  [[172, 16], 12, PRIVATE],
  [[192, 0, 0], 24, RESERVED],
  [[192, 0, 2], 24, RESERVED],
  [[192, 88, 99], 24, RESERVED],
  [[192, 168], 16, PRIVATE],
  [[198, 18], 15, RESERVED],
  [[198, 51, 100], 24, RESERVED],
  [[203, 0, 113], 24, RESERVED],
  [[224], 4, 'a multicast address'],
  [[240], 4, RESERVED], // and 255.255.255.255
];

const V6: Range[] = [
  [[], 128, 'the unspecified address'], // ::
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128, LOOPBACK],
  [[], 96, RESERVED], // ::a.b.c.d, IPv4-compatible (deprecated)
  [[0, 0x64, 0xff, 0x9b, 0, 1], 48, RESERVED], // local-use NAT64
  [[1, 0, 0, 0, 0, 0, 0, 0], 64, RESERVED], // discard-only
  [[0x20, 0x01, 0x0d, 0xb8], 32, RESERVED], // documentation
  [[0x20, 0x01], 23, RESERVED], // IETF protocol assignments, Teredo
  [[0x3f, 0xff], 20, RESERVED], // documentation
  [[0xfc], 7, PRIVATE], // unique local
  [[0xfe, 0x80], 10, LINK_LOCAL],
  [[0xfe, 0xc0], 10, PRIVATE], // site-local (deprecated)
  [[0xff], 8, 'a multicast address'],
];

// IPv6 forms that carry an IPv4 address, which then decides: [prefix, bits, offset of the IPv4].
const V4_INSIDE: [number[], number, number][] = [
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96, 12], // ::ffff:a.b.c.d (mapped)
  [[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0], 96, 12], // ::ffff:0:a.b.c.d (translated)
  [[0, 0x64, 0xff, 0x9b], 96, 12], // 64:ff9b::a.b.c.d (NAT64)
  [[0x20, 0x02], 16, 2], // 2002:aabb:ccdd:: (6to4)
];

function inRange(bytes: number[], prefix: number[], bits: number): boolean {
  for (let i = 0; i * 8 < bits; i++) {
    const mask = bits - i * 8 >= 8 ? 0xff : (0xff << (8 - (bits - i * 8))) & 0xff;
    if ((bytes[i] & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** "10.1.2.3" -> 4 bytes, "::ffff:7f00:1" -> 16 bytes; null when not an IP. */
export function ipBytes(ip: string): number[] | null {
  const s = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, ''); // brackets, zone id
  const fam = isIP(s);
  if (fam === 4) return s.split('.').map(Number);
  if (fam !== 6) return null;
  let text = s;
  const tail: number[] = [];
  const dotted = text.match(/:(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const v4 = dotted[1].split('.').map(Number);
    text = text.slice(0, -dotted[1].length) + '0:0';
    tail.push(...v4);
  }
  const [head, rest] = text.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':').filter((g) => g !== '').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill(0), ...r];
  const bytes = all.flatMap((g) => [g >> 8, g & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** What kind of non-public address `ip` is ("a loopback address"), or null when public. */
export function nonPublicKind(ip: string): string | null {
  const b = ipBytes(ip);
  if (!b) return null;
  if (b.length === 4) return V4.find(([p, bits]) => inRange(b, p, bits))?.[2] ?? null;
  for (const [p, bits, at] of V4_INSIDE) {
    if (inRange(b, p, bits)) {
      const kind = nonPublicKind(b.slice(at, at + 4).join('.'));
      return kind && `${kind} (IPv4 inside IPv6)`;
    }
  }
  return V6.find(([p, bits]) => inRange(b, p, bits))?.[2] ?? null;
}

/** HOST names a loopback interface (only this machine can connect). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || nonPublicKind(h)?.startsWith(LOOPBACK) === true;
}

const bare = (hostname: string) => hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');

export function createOutboundPolicy(opts: OutboundPolicyOptions): OutboundPolicy {
  const ownReceiver = (url: URL) => {
    const pub = new URL(opts.publicUrl());
    // A proxy in front that decodes %2F before resolving dots would take /h/..%2F..%2Fadmin elsewhere.
    return url.origin === pub.origin && url.pathname.startsWith(pub.pathname.replace(/\/+$/, '') + RECEIVER_PREFIX) && !hasDotSegment(url.pathname);
  };
  if (opts.allow) return allowListPolicy(parseAllowList(opts.allow), ownReceiver);
  if (isLoopbackHost(opts.host)) return { mode: 'open', checkUrl: () => ({ ok: true, checkAddresses: false }), checkAddress: () => null };

  return {
    mode: 'public-only',
    checkUrl(url) {
      if (ownReceiver(url)) return { ok: true, checkAddresses: false };
      const host = bare(url.hostname);
      if (METADATA_NAMES.has(host)) return { ok: false, reason: `${host} is a cloud metadata host name; ${WHY}` };
      if (!isIP(host)) return { ok: true, checkAddresses: true };
      const kind = nonPublicKind(host);
      return kind ? { ok: false, reason: `${host} is ${kind}; ${WHY}` } : { ok: true, checkAddresses: false };
    },
    checkAddress(hostname, address) {
      const kind = nonPublicKind(address);
      return kind ? `${bare(hostname)} resolves to ${address}, ${kind}; ${WHY}` : null;
    },
  };
}

function allowListPolicy(allow: AllowList, ownReceiver: (url: URL) => boolean): OutboundPolicy {
  const no = (host: string) => `${host} is not in DISPATCH_ALLOW`;
  return {
    mode: 'allow-list',
    checkUrl(url) {
      if (ownReceiver(url)) return { ok: true, checkAddresses: false };
      const host = bare(url.hostname);
      if (allow.allowsHostname(host)) return { ok: true, checkAddresses: false };
      if (isIP(host)) return allow.allowsAddress(host) ? { ok: true, checkAddresses: false } : { ok: false, reason: no(host) };
      return { ok: true, checkAddresses: true };
    },
    checkAddress(hostname, address) {
      return allow.allowsAddress(address) ? null : no(bare(hostname));
    },
  };
}
