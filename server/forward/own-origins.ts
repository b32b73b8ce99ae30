// hooklab's own origins: PUBLIC_URL's, and the address it listens on under the names it
// answers to. A forward target at one of them would send captures back into hooklab.
import type { Server } from 'node:http';

export function ownOrigins(publicUrl: string, server: Server): string[] {
  const out = [new URL(publicUrl).origin];
  const a = server.address();
  if (a && typeof a === 'object') {
    for (const host of ['127.0.0.1', 'localhost', '[::1]', a.address.includes(':') ? `[${a.address}]` : a.address]) out.push(`http://${host}:${a.port}`);
  }
  return out;
}
