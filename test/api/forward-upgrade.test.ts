// Forward settings an older build stored that a save refuses now: two targets that are the same
// place (a trailing "/" apart) or a #fragment. HEAD used them as stored, without a word, and
// every capture went twice to the same URL (an upgrade probe). Now each place is used once and
// the fragment dropped, GET shows them so (so they can be saved again as they are), and the log
// says how many bins (no ids, no URLs: both may be secrets).
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { Bin, RequestDetail } from '../../shared/api.ts';
import { LowdbStore } from '../../server/store/lowdb.ts';
import { send } from '../helpers/http.ts';
import { withServer } from '../helpers/process.ts';
import { json, tempDir } from '../helpers/server.ts';

const dirs: string[] = [];
let target: http.Server | undefined;
afterAll(async () => {
  await new Promise((r) => (target ? target.close(r) : r(null)));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('forward targets stored by an older build', () => {
  it('are used once per place, without fragments; GET shows them so, a PUT of them is taken; the log counts bins only', async () => {
    const got: string[] = [];
    target = http.createServer((req, res) => {
      got.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => target!.listen(0, '127.0.0.1', r));
    const t = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const bin = await withServer({ DATA_DIR: dataDir }, async (base) => (await json<Bin>(base, 'POST', '/api/bins', {})).body);
    // As 77d184f (2026-12-04) took them from a PUT.
    const store = await LowdbStore.open({ dataDir, flushIntervalMs: 20 });
    await store.forwards.put({ id: bin.id, targets: [{ url: `${t}/x` }, { url: `${t}/x/` }, { url: `${t}/y#frag` }], answerWith: 'bin' });
    await store.close();

    await withServer({ DATA_DIR: dataDir }, async (base, output) => {
      const settings = (await json<{ targets: { url: string }[]; answerWith: string }>(base, 'GET', `/api/bins/${bin.id}/forward`)).body;
      expect(settings.targets).toEqual([{ url: `${t}/x` }, { url: `${t}/y` }]);
      const r = await send(`${base}/h/${bin.id}/hook`, { body: 'once' });
      const id = r.headers['x-hooklab-request-id'] as string;
      let detail: RequestDetail | undefined;
      for (let i = 0; i < 200 && (detail?.forwards?.length ?? 0) < 2; i++) {
        await new Promise((res) => setTimeout(res, 50));
        detail = (await json<RequestDetail>(base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body;
      }
      expect(detail!.forwards!.map((f) => f.target).sort()).toEqual([`${t}/x`, `${t}/y`]);
      expect(got.sort()).toEqual(['/x/hook', '/y/hook']);
      // What GET shows is taken back as it is.
      expect((await json(base, 'PUT', `/api/bins/${bin.id}/forward`, { ...settings, answerWith: 'target' })).status).toBe(200);
      const line = output().split('\n').find((l) => l.includes('forward targets saved by an older build')) ?? '';
      expect(line).toContain('"bins":1');
      expect(line).not.toContain(bin.id);
      expect(line).not.toContain(t);
    });
  });
});
