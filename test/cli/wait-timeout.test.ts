// `hooklab wait --timeout 400s` must not be cut short by the HTTP client: undici's default
// headers timeout (300 s) ended such a wait as "cannot reach hooklab (UND_ERR_HEADERS_TIMEOUT)",
// exit 3, though the server allows waits of up to 10 minutes. Scaled down so it runs in a few
// seconds: the process-wide client's default is made 200 ms, and a stand-in server takes 2.5 s
// to answer a wait of 5 s (undici checks its timeouts about every 0.5 s). The wait must use
// timeouts of its own, above its --timeout.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CliError } from '../../server/cli/client.ts';
import { MAX_WAIT_MS, wait, waitClientTimeouts } from '../../server/cli/commands/wait.ts';

let server: http.Server;
let base: string;
let before: Dispatcher;
const asked: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    asked.push(req.url!);
    // Answers as hooklab does once a matching capture arrives, here 2.5 s into the wait.
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: '0abc', path: '/late' })), 2500);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  before = getGlobalDispatcher();
  // undici's defaults (300 s) in miniature: what a plain fetch would get.
  setGlobalDispatcher(new Agent({ headersTimeout: 200, bodyTimeout: 200 }));
});
afterAll(async () => {
  setGlobalDispatcher(before);
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('hooklab wait, a long wait', () => {
  it('is not ended by the HTTP client default timeout: it gets the answer that comes after it', async () => {
    // The stand-in itself: a plain fetch does hit the (miniature) default.
    await expect(fetch(`${base}/plain`)).rejects.toMatchObject({ cause: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      let error: unknown = null;
      await wait({ server: base, token: null }, 'some-bin-1234', { timeout: '5s' }).catch((e) => (error = e));
      expect(error instanceof CliError ? error.message : error).toBeNull();
      expect(out).toHaveBeenCalledWith(`${JSON.stringify({ id: '0abc', path: '/late' })}\n`);
    } finally {
      out.mockRestore();
    }
    expect(asked.at(-1)).toBe('/api/bins/some-bin-1234/requests/wait?timeout=5000ms');
  });

  it("the client's timeouts are above the wait's own, up to the server's longest (10 min)", () => {
    for (const ms of [400_000, MAX_WAIT_MS]) {
      const t = waitClientTimeouts(ms);
      expect(t.headersTimeout).toBeGreaterThan(ms);
      expect(t.bodyTimeout).toBeGreaterThan(ms);
    }
  });
});
