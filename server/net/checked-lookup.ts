// A DNS lookup for outbound connections (node:http's `lookup` option for the dispatcher,
// undici's connector for forwards and replays) that refuses, at connect time, any address the outbound
// policy does not allow: the check is on what the name resolved to for this connection, so
// a name that resolves differently a moment later (DNS rebinding) cannot slip past.
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { OutboundPolicy } from './outbound-policy.ts';

/** The error a refused call fails with; senders report it as `blocked`, with its message. */
export class BlockedError extends Error {
  code = 'EHOOKLAB_BLOCKED';
}

export function checkedLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname, options, cb) => {
    dns.lookup(hostname, options, (err, address, family) => {
      if (err) return cb(err, address as string, family);
      // With `all: true` (Node's happy eyeballs) every address must pass: any may be used.
      const addrs = Array.isArray(address) ? address.map((a) => a.address) : [address];
      for (const a of addrs) {
        const why = policy.checkAddress(hostname, a);
        if (why) return cb(new BlockedError(why), address as string, family);
      }
      cb(null, address as string, family);
    });
  };
}
