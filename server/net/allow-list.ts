// DISPATCH_ALLOW: which hosts outbound calls may reach (used by outbound-policy.ts). Entries
// are host names ("example.com", "*.example.com"), IPs or CIDRs ("10.0.0.0/8"). IP entries are
// checked against the address the name resolved to at connect time, so DNS tricks cannot reach
// around the list. An entry that is none of these (a URL, a host:port, a bad prefix length)
// stops start-up naming it (allowListProblem): it would never match, or crashed start-up.
import { BlockList, isIP } from 'node:net';
import { domainToASCII } from 'node:url';

export interface AllowList {
  allowsHostname(host: string): boolean;
  allowsAddress(ip: string): boolean;
}

/** What DISPATCH_ALLOW takes, for its errors. */
export const ALLOW_SYNTAX =
  'comma-separated host names (example.com, *.example.com), IP addresses (10.0.0.5, fd00::1) or CIDRs (10.0.0.0/8, fd00::/8); no scheme, port or path (any port of a listed host is allowed)';

/** An entry read, or what is wrong with it (words to follow "is"). */
type Entry = { name: string } | { addr: string; bits?: number; type: 'ipv4' | 'ipv6' } | { problem: string };

// A label: letters, digits, hyphens inside, underscores (some private DNS, Docker names use them).
const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const HOST_NAME = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);

function entry(raw: string): Entry {
  const e = raw.trim().toLowerCase();
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(e)) return { problem: 'a URL (give its host alone)' };
  const slash = e.indexOf('/');
  const addr = slash < 0 ? e : e.slice(0, slash);
  const fam = isIP(addr);
  if (fam) {
    const type = fam === 6 ? 'ipv6' : 'ipv4';
    if (slash < 0) return { addr, type };
    const bits = e.slice(slash + 1);
    const max = fam === 6 ? 128 : 32;
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return { problem: `not valid: the prefix length of an ${fam === 6 ? 'IPv6' : 'IPv4'} CIDR is a number from 0 to ${max}` };
    return { addr, bits: Number(bits), type };
  }
  if (slash >= 0) return { problem: 'not valid: only an IP address takes a /prefix length, and no entry takes a path' };
  if (/^\[.*\]$/.test(e)) return { problem: 'not valid: an IPv6 address is written without brackets' };
  if (/^[^:]+:\d*$/.test(e)) return { problem: 'a host with a port (give the host alone)' };
  // As a URL's host is compared: an international name in its ASCII (punycode) form.
  const wild = e.startsWith('*.');
  const name = (wild ? '*.' : '') + domainToASCII(wild ? e.slice(2) : e);
  // A name whose last label is a number is read as an IPv4 address in a URL: it never matches.
  if (!HOST_NAME.test(name) || /(^|\.)\d+$/.test(name)) return { problem: 'not a host name, IP address or CIDR' };
  return { name };
}

/** The first entry DISPATCH_ALLOW cannot use, as one line naming it, or null when all are good. */
export function allowListProblem(entries: string[]): string | null {
  for (const raw of entries) {
    const got = entry(raw);
    if ('problem' in got) return `DISPATCH_ALLOW entry "${raw.trim()}" is ${got.problem}. DISPATCH_ALLOW takes ${ALLOW_SYNTAX}.`;
  }
  return null;
}

export function parseAllowList(entries: string[]): AllowList {
  const problem = allowListProblem(entries);
  if (problem) throw new Error(problem);
  const names: string[] = [];
  const nets = new BlockList();
  for (const raw of entries) {
    const e = entry(raw);
    if ('name' in e) names.push(e.name);
    else if ('addr' in e) {
      if (e.bits !== undefined) nets.addSubnet(e.addr, e.bits, e.type);
      else nets.addAddress(e.addr, e.type);
    }
  }
  return {
    allowsHostname(host) {
      const h = host.toLowerCase().replace(/^\[|\]$/g, '');
      return names.some((n) => (n.startsWith('*.') ? h.endsWith(n.slice(1)) : h === n));
    },
    allowsAddress(ip) {
      const fam = isIP(ip);
      if (!fam) return false;
      return nets.check(ip, fam === 6 ? 'ipv6' : 'ipv4');
    },
  };
}
