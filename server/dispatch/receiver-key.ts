// Which receiver a URL reaches, for ordering: one of our bins (whatever its sub-path or host
// name), else the URL's origin. Attempts to one receiver at different virtual instants are
// never in flight together (see dispatcher.ts), so its captures arrive in recorded order.
import { RECEIVER_PREFIX } from '../../shared/api.ts';

// A fast-forward asks for the same few URLs thousands of times: parse each once.
const known = new Map<string, string>();
const KNOWN_MAX = 1000;

export function receiverKey(url: string): string {
  let k = known.get(url);
  if (k === undefined) {
    if (known.size >= KNOWN_MAX) known.delete(known.keys().next().value!);
    known.set(url, (k = parseKey(url)));
  }
  return k;
}

function parseKey(url: string): string {
  try {
    const u = new URL(url);
    if (u.pathname.startsWith(RECEIVER_PREFIX)) {
      const bin = u.pathname.slice(RECEIVER_PREFIX.length).split('/')[0];
      if (bin) return `bin:${bin}`;
    }
    return u.origin;
  } catch {
    return url;
  }
}
