// Whether a URL's host is this machine: every spelling of loopback or of the any-address
// (which reaches this machine's listeners too), and this machine's own interface addresses.
// `forward` refuses a --to that is its bin's server under another name: 0.0.0.0, [::],
// [::ffff:7f00:1], 127.0.0.2 or a LAN address of this machine lead to the same hooklab as
// localhost does, and a relay into it loops (each forward a new capture, forwarded again).
import { networkInterfaces } from 'node:os';
import { ipBytes } from '../net/outbound-policy.ts';

/** A URL's hostname without brackets, a trailing dot or case. (WHATWG URL already writes 127.1, 0x7f000001 and ::FFFF:127.0.0.1 as 127.0.0.1 and ::ffff:7f00:1.) */
const bare = (hostname: string) => hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.+$/, '');

/** 127.0.0.0/8 and 0.0.0.0; the same inside IPv6 (::ffff:a.b.c.d, dotted or hex); ::1 and ::. */
function isLoopbackOrAny(bytes: number[]): boolean {
  let v4 = bytes.length === 4 ? bytes : null;
  if (bytes.length === 16) {
    const head = bytes.slice(0, 12);
    if (head.slice(0, 10).every((b) => b === 0) && head[10] === 0xff && head[11] === 0xff) v4 = bytes.slice(12);
    else return bytes.slice(0, 15).every((b) => b === 0) && (bytes[15] === 0 || bytes[15] === 1);
  }
  return v4 !== null && (v4[0] === 127 || v4.every((b) => b === 0));
}

let own: Set<string> | null = null;
/** This machine's interface addresses, as bytes joined (read once: a CLI run is short). */
function ownAddresses(): Set<string> {
  if (!own) {
    own = new Set();
    try {
      for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) {
        const b = ipBytes(a.address);
        if (b) own.add(b.join('.'));
      }
    } catch {
      // No interfaces to read (a sandbox): loopback and the any-address still count.
    }
  }
  return own;
}

export function isThisMachine(hostname: string): boolean {
  const h = bare(hostname);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const b = ipBytes(h);
  if (!b) return false;
  if (isLoopbackOrAny(b)) return true;
  // An IPv4 address of an interface may come as ::ffff:a.b.c.d too.
  const v4 = b.length === 16 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff ? b.slice(12) : b;
  return ownAddresses().has(v4.join('.')) || ownAddresses().has(b.join('.'));
}
