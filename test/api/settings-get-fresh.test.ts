// GETs of settings whose ETag covers the settings only (for If-Match) while their body shows
// state that moves without them: a bin's plan position, a webhook's failure streak. They are
// never answered 304: a browser reloading the page sent If-None-Match and was handed its stale
// copy ("0 of 3 used" for a plan used up).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

async function get(path: string, headers: Record<string, string> = {}) {
  const r = await fetch(srv.base + path, { headers });
  const text = await r.text();
  return { status: r.status, etag: r.headers.get('etag'), cacheControl: r.headers.get('cache-control'), body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
}

describe('settings GETs with state outside their ETag', () => {
  it("a bin's response settings: the position read after requests is current, whatever If-None-Match says", async () => {
    const bin = await createBin(srv.base);
    const put = await fetch(`${srv.base}/api/bins/${bin.id}/response`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ plan: [{ status: 500, times: 3 }] }) });
    expect(put.status).toBe(200);
    const before = await get(`/api/bins/${bin.id}/response`);
    expect(before.body.position).toMatchObject({ consumed: 0, exhausted: false });
    expect(before.cacheControl).toBe('no-store');
    for (let i = 0; i < 3; i++) expect((await send(bin.url, { body: 'x' })).status).toBe(500);

    const again = await get(`/api/bins/${bin.id}/response`, { 'if-none-match': before.etag! });
    expect(again.status).toBe(200);
    // The settings did not change, so the ETag (what If-Match checks) did not either.
    expect(again.etag).toBe(before.etag);
    expect(again.body.position).toMatchObject({ consumed: 3, exhausted: true });
  });

  it("a webhook: its failure streak shows on a GET with the ETag read before it began", async () => {
    const made = await fetch(`${srv.base}/api/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'refused', url: 'http://127.0.0.1:9/refused' }) });
    expect(made.status).toBe(201);
    const { id } = (await made.json()) as { id: string };
    const before = await get(`/api/webhooks/${id}`);
    expect(before.body.failing).toBeNull();
    // A run: its first attempt fails at once (nothing listens on port 9), a streak begins.
    expect((await fetch(`${srv.base}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(201);
    await expect.poll(async () => (await get(`/api/webhooks/${id}`)).body.failing, { timeout: 20_000 }).not.toBeNull();

    const again = await get(`/api/webhooks/${id}`, { 'if-none-match': before.etag! });
    expect(again.status).toBe(200);
    expect(again.etag).toBe(before.etag);
    expect(again.cacheControl).toBe('no-store');
    expect(again.body.failing).toMatchObject({ since: expect.any(String) });
  });
});
