// Each forward target once, compared as it is used: ".../a", ".../a/" and ".../a#x" were all
// accepted, and a capture at /dupcheck then reached /a/dupcheck three times (the join drops a
// trailing "/" of the target's path; a fragment is never sent). A trailing "/" more is the same
// target again (400 on the second); a #fragment is refused on its field.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';
import { type RecordingTarget, recordingTarget } from '../helpers/target.ts';
import { until } from '../helpers/until.ts';

let srv: TestServer;
let target: RecordingTarget;

beforeAll(async () => {
  srv = await startServer();
  target = await recordingTarget();
});
afterAll(async () => {
  target.close();
  await srv.cleanup();
});

const put = (binId: string, urls: string[]) => request(srv.base).put(`/api/bins/${binId}/forward`).send({ targets: urls.map((url) => ({ url })) });

describe('forward targets, each once as used', () => {
  it('".../a", ".../a/" and ".../a#x" are refused together, each on its field; nothing is stored', async () => {
    const bin = await createBin(srv.base);
    const a = `${target.base}/a`;
    const r = await put(bin.id, [a, `${a}/`, `${a}#x`]).expect(400);
    expect(r.body.error.fields).toEqual([
      { field: 'targets[1].url', message: 'is targets[0] again (only a trailing "/" differs: every sub-path is joined to both the same way): each capture would be sent there twice' },
      { field: 'targets[2].url', message: 'must not have a #fragment: it is never sent to the target (remove it)' },
    ]);
    expect((await request(srv.base).get(`/api/bins/${bin.id}/forward`).expect(200)).body.targets).toEqual([]);
  });

  it('a fragment alone, even an empty one, is a 400 on that field', async () => {
    const bin = await createBin(srv.base);
    for (const url of [`${target.base}/a#x`, `${target.base}/a#`, `${target.base}/?q=1#top`]) {
      const r = await put(bin.id, [url]).expect(400);
      expect(r.body.error, url).toMatchObject({ field: 'targets[0].url', message: 'targets[0].url: must not have a #fragment: it is never sent to the target (remove it)' });
    }
  });

  it('targets that differ where it is sent are all kept: another path, query, port or a "/" inside the path', async () => {
    const bin = await createBin(srv.base);
    const urls = [`${target.base}/a`, `${target.base}/a/b`, `${target.base}/a?x=1`, `${target.base}/a/?x=2`, `${target.base}/a//`, `${target.base}/`];
    expect((await put(bin.id, urls).expect(200)).body.targets.map((t: { url: string }) => t.url)).toEqual(urls);
    // The same URL twice still says so plainly.
    const r = await put(bin.id, [`${target.base}/a`, `${target.base}/a`]).expect(400);
    expect(r.body.error.fields).toEqual([{ field: 'targets[1].url', message: 'is targets[0] again: each capture would be sent there twice' }]);
  });

  it('with the one target kept, a capture at /dupcheck reaches /a/dupcheck once', async () => {
    const bin = await createBin(srv.base);
    await put(bin.id, [`${target.base}/a/`]).expect(200);
    await put(bin.id, [`${target.base}/a/`, `${target.base}/a`]).expect(400);
    await send(`${bin.url}/dupcheck`, { body: 'once' });
    await until(() => target.got.some((g) => g.url === '/a/dupcheck'), 'the forward');
    // A capture after it, so a second copy of the first would have come by then.
    await send(`${bin.url}/after`, { body: 'x' });
    await until(() => target.got.some((g) => g.url === '/a/after'), 'the next forward');
    expect(target.got.filter((g) => g.url === '/a/dupcheck').map((g) => g.body.toString())).toEqual(['once']);
  });
});
