// The forwarder's timeout after a suspend (a laptop asleep, a SIGSTOPped relay): an answer that
// arrived while the process could not run is read, not called a timeout (which would make the
// relay send the same event again). Blocking the event loop stands in for the suspend: Node then
// sees an overdue timer and a readable socket at once, as after a resume.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { forwardRequest } from '../../server/forward/request.ts';
import { GRACE_MS, LATE_MS, isLate } from '../../server/lib/wake-aware-timeout.ts';

const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function target(handler: http.RequestListener) {
  const srv = http.createServer(handler);
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

const capture = { method: 'POST', path: '/x', queryString: '', headers: ['Content-Type', 'text/plain'], body: Buffer.from('hello') };

function freeze(ms: number) {
  for (const end = Date.now() + ms; Date.now() < end; );
}

describe('forward timeout across a suspend', () => {
  it('an answer that arrived while the process was frozen is read, not a timeout', async () => {
    const url = await target((req, res) => {
      req.resume().on('end', () => {
        res.writeHead(202).end('seen');
        setImmediate(() => freeze(1500)); // the answer is on its way; the process "sleeps"
      });
    });
    const r = await forwardRequest(url, capture, { timeoutMs: 300, maxResponseBytes: 1024 });
    expect(r.error).toBeNull();
    expect(r.status).toBe(202);
    expect(r.body.toString()).toBe('seen');
  });

  it('so is one that arrived while the process was frozen until just after the timeout was due', async () => {
    // The resume comes a little after the timer was due: the timer fires about on time, so how
    // late it fired cannot tell a resume from a busy moment (a relay sent the event again).
    let due = 0;
    const url = await target((req, res) => {
      req.resume().on('end', () => {
        res.writeHead(202).end('seen');
        setImmediate(() => {
          for (const end = due + 200; performance.now() < end; );
        });
      });
    });
    due = performance.now() + 300;
    const r = await forwardRequest(url, capture, { timeoutMs: 300, maxResponseBytes: 1024 });
    expect(r.error).toBeNull();
    expect(r.status).toBe(202);
  });

  it('a target that never answers still times out', async () => {
    const url = await target((req) => req.resume());
    const r = await forwardRequest(url, capture, { timeoutMs: 200, maxResponseBytes: 1024 });
    expect(r).toMatchObject({ status: null, error: 'timeout' });
  });

  it('an answer that comes a little after the timeout (the process awake) is a timeout: a slow bin fails a dispatcher attempt', async () => {
    const url = await target((req, res) => {
      req.resume().on('end', () => setTimeout(() => res.writeHead(200).end('late'), 420));
    });
    const r = await forwardRequest(url, capture, { timeoutMs: 200, maxResponseBytes: 1024 });
    expect(r).toMatchObject({ status: null, error: 'timeout' });
  });

  it('a timer counts as slept through only when it fires more than LATE_MS after it was due', () => {
    expect(isLate(1000, 1000 + LATE_MS + 1)).toBe(true);
    expect(isLate(1000, 1000 + LATE_MS)).toBe(false);
    expect(isLate(1000, 1010)).toBe(false); // a busy event loop is not a sleep
    expect(GRACE_MS).toBeLessThan(LATE_MS);
  });
});
