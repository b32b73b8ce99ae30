// DISPATCH_ALLOW: which hosts outbound calls may reach (used by outbound-policy.ts). Entries
// are host names ("example.com", "*.example.com"), IPs or CIDRs ("10.0.0.0/8"). IP entries are
// checked against the address the name resolved to at connect time, so DNS tricks cannot reach
// around the list.
import { BlockList, isIP } from 'node:net';

export interface AllowList {
  allowsHostname(host: string): boolean;
  allowsAddress(ip: string): boolean;
}

export function parseAllowList(entries: string[]): AllowList {
  const names: string[] = [];
  const nets = new BlockList();
  for (const raw of entries) {
    const e = raw.trim().toLowerCase();
    const [addr, bits] = e.split('/');
    const fam = isIP(addr);
    if (fam) {
      const type = fam === 6 ? 'ipv6' : 'ipv4';
      if (bits !== undefined) nets.addSubnet(addr, Number(bits), type);
      else nets.addAddress(addr, type);
    } else {
      names.push(e);
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
