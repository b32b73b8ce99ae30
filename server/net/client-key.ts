// What per-client budgets and limits count by (connections, live sessions, waits, wrong
// tokens): the address for IPv4, the /64 for IPv6. An IPv6 host is most often given a whole
// /64 and can take a new address from it for every connection or guess.
import { isIP, isIPv6 } from 'node:net';

/** Eight 16-bit groups of an IPv6 address (a zone index dropped), or null. */
function groups(ip: string): number[] | null {
  const bare = ip.split('%')[0];
  const [head, tail] = bare.includes('::') ? bare.split('::') : [bare, null];
  const part = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        // An IPv4 tail: two groups.
        const [a, b, c, d] = g.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = part(head);
  const t = tail === null ? [] : part(tail);
  const zeros = 8 - h.length - t.length;
  if (zeros < 0 || (tail === null && zeros !== 0)) return null;
  return [...h, ...new Array<number>(zeros).fill(0), ...t];
}

/** The key a client's address is counted by. */
export function clientKey(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const g = groups(ip);
  if (!g) return ip;
  // An IPv4 address in IPv6 clothing (::ffff:a.b.c.d) is that IPv4 address.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
  }
  return `${g.slice(0, 4).map((n) => n.toString(16)).join(':')}::/64`;
}

/**
 * The address in an X-Forwarded-For entry: some proxies append "ip:port" ("[v6]:port"), and each
 * port must not count as a new client (a new budget of wrong tokens, waits, sessions). null
 * when it is no address: counted as the proxy's (its socket), not as a client of its own.
 */
export function addressOf(entry: string): string | null {
  let a = entry;
  if (a.startsWith('[')) a = a.slice(1, a.indexOf(']') > 0 ? a.indexOf(']') : undefined);
  else if (isIPv4WithPort(a)) a = a.slice(0, a.lastIndexOf(':'));
  if (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  return isIP(a) ? a : null;
}

const isIPv4WithPort = (s: string) => /^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(s);
