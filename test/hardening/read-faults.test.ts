// A capture whose files are gone from under hooklab (a bin's directory moved away by hand) is
// loud, not a generic 500 nor a 404: its detail, raw body and the bin's export answer 503
// storage_unavailable with Retry-After, and /api/health lists a warning (a count and times,
// no bin id) while staying 200: writes work, so captures go on. Put back, it reads again.
// Real server process, real files.
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { createBin, json } from '../helpers/server.ts';
import { spawnedServers } from '../helpers/spawned.ts';

const { start, dataDir } = spawnedServers();

describe('captures that cannot be read back', () => {
  it('answer 503 with Retry-After; health warns (200, a count, no bin id); the log names no bin; put back, they read again', async () => {
    const d = await dataDir('hooklab-read-faults-');
    // No cache: every read goes to the files.
    const p = await start({ DATA_DIR: d, FLUSH_INTERVAL_MS: '50', CACHE_BYTES: '0' });
    const bin = await createBin(p.base);
    const url = bin.url.replace(/^http:\/\/[^/]+/, p.base);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await send(url, { body: `body ${i}` })).headers['x-hooklab-request-id'] as string);
    await expect.poll(async () => (await fetch(`${p.base}/api/bins/${bin.id}/requests/${ids[2]}/raw`)).status).toBe(200);
    const binDir = path.join(d, 'bins', bin.id);
    // Written: the segment's journal names the last capture (until then reads come from memory).
    await expect.poll(async () => (await readFile(path.join(binDir, '00000000.log'), 'utf8').catch(() => '')).includes(ids[2]), { timeout: 30_000 }).toBe(true);
    await rename(binDir, `${binDir}.moved`);
    for (const route of [`/api/bins/${bin.id}/requests/${ids[1]}`, `/api/bins/${bin.id}/requests/${ids[1]}/raw`, `/api/bins/${bin.id}/export`]) {
      const r = await fetch(p.base + route);
      expect({ route, status: r.status, retryAfter: r.headers.get('retry-after'), disposition: r.headers.get('content-disposition') }).toEqual({
        route,
        status: 503,
        retryAfter: expect.stringMatching(/^\d+$/),
        disposition: null,
      });
      const body = (await r.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('storage_unavailable');
      expect(body.error.message).toMatch(/could not be read back.*see \/api\/health/);
    }
    const h = await fetch(`${p.base}/api/health`);
    const text = await h.text();
    expect(h.status).toBe(200);
    const health = JSON.parse(text) as { ok: boolean; warnings: string[] };
    expect(health.ok).toBe(true);
    const warning = health.warnings.find((w) => w.includes('Reading stored captures failed'));
    expect(warning).toMatch(/^\d{4}-\d\d-\d\dT\S+Z Reading stored captures failed [3-9] time\(s\) since \d{4}-\d\d-\d\dT\S+Z \(last: a file is missing \(ENOENT\)\)/);
    expect(text).not.toContain(bin.id);
    expect(text).not.toContain(d);
    // Writes are not affected: another bin captures as ever.
    const other = await createBin(p.base);
    expect((await send(other.url.replace(/^http:\/\/[^/]+/, p.base), { body: 'other' })).status).toBe(200);
    await expect.poll(() => p.output()).toMatch(/WARN Reading stored captures failed/);
    const logged = p.output().split('\n').find((l) => l.includes('WARN Reading stored captures failed'))!;
    expect(logged).toContain(path.join(d, 'bins', '<bin>', '0000000'));
    expect(p.output()).not.toContain(bin.id);

    // Not forgotten: put back, everything reads again.
    await rename(`${binDir}.moved`, binDir);
    const detail = await json<{ id: string }>(p.base, 'GET', `/api/bins/${bin.id}/requests/${ids[1]}`);
    expect(detail).toMatchObject({ status: 200, body: { id: ids[1] } });
    expect(await (await fetch(`${p.base}/api/bins/${bin.id}/requests/${ids[1]}/raw`)).text()).toBe('body 1');
    const exported = await fetch(`${p.base}/api/bins/${bin.id}/export`);
    expect(exported.status).toBe(200);
    expect((await exported.text()).trim().split('\n')).toHaveLength(3);
  });
});
