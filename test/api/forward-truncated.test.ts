// A capture whose body MAX_BODY_BYTES cut is not sent anywhere as if it were whole: its first
// bytes are not the request that came, and an app (or its signature check) would get other
// bytes. Background forwards record `truncated` (nothing sent), proxy mode answers the sender
// 413 body_too_large, a replay as captured is 409 (an edited one with the whole body goes), a
// bulk replay counts it failed. Before, each sent the first MAX_BODY_BYTES with a matching
// Content-Length, and the target's 200 went back to the sender in proxy mode. Ids a bulk
// replay names that the bin does not hold are counted `missing` (they were counted failed, as
// if a target had not answered).
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayJob, RequestDetail } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';
import { type RecordingTarget, recordingTarget } from '../helpers/target.ts';
import { until } from '../helpers/until.ts';

const MAX = 100;
let srv: TestServer;
let target: RecordingTarget;
let targetBase = '';

beforeAll(async () => {
  srv = await startServer({ config: { maxBodyBytes: MAX } });
  target = await recordingTarget((_q, res, body) => res.end(`got ${body.length}`));
  targetBase = target.base;
});
afterAll(async () => {
  target.close();
  await srv.cleanup();
});

const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
const detail = async (binId: string, id: string) => (await request(srv.base).get(`/api/bins/${binId}/requests/${id}`).expect(200)).body as RequestDetail;
const big = Buffer.alloc(500, 'x');
const small = Buffer.from('whole');
const sentTo = (path: string) => target.got.filter((g) => g.url === path);

describe('a capture whose body MAX_BODY_BYTES cut', () => {
  it('is not forwarded in the background: recorded "truncated", and the whole one beside it goes', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/bg` }] }).expect(200);
    const cutId = idOf(await send(`${bin.url}/a`, { body: big }));
    const wholeId = idOf(await send(`${bin.url}/b`, { body: small }));
    await until(async () => (await detail(bin.id, wholeId)).forwards.length === 1 && (await detail(bin.id, cutId)).forwards.length === 1, 'both forward records');
    const d = await detail(bin.id, cutId);
    expect(d).toMatchObject({ truncated: true, size: 500 });
    expect(d.forwards[0]).toMatchObject({ kind: 'forward', status: null, error: 'truncated' });
    expect(d.forwards[0].errorDetail).toContain(`${MAX} of 500 bytes kept`);
    expect(sentTo('/bg/a')).toEqual([]);
    expect(sentTo('/bg/b').map((g) => g.body.toString())).toEqual(['whole']);
  });

  it('in proxy mode: the sender gets 413 body_too_large, nothing reaches the target, the record says why', async () => {
    const bin = await createBin(srv.base);
    await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${targetBase}/px` }], answerWith: 'target' }).expect(200);
    const r = await send(`${bin.url}/big`, { body: big });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body.toString()).error).toMatchObject({ code: 'body_too_large', message: expect.stringContaining(`${MAX} of 500 bytes kept`) });
    const ok = await send(`${bin.url}/small`, { body: small });
    expect({ status: ok.status, body: ok.body.toString() }).toEqual({ status: 200, body: 'got 5' });
    expect(sentTo('/px/big')).toEqual([]);
    const d = await detail(bin.id, idOf(r));
    expect(d.forwards[0]).toMatchObject({ kind: 'proxy', status: null, error: 'truncated' });
    expect(d.answer.status).toBe(413);
  });

  it('a replay as captured is 409 body_truncated; an edited one with the whole body goes', async () => {
    const bin = await createBin(srv.base);
    const id = idOf(await send(`${bin.url}/r`, { body: big }));
    const refused = await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({ url: `${targetBase}/replay` }).expect(409);
    expect(refused.body.error).toMatchObject({ code: 'body_truncated', message: expect.stringContaining(`This capture cannot be replayed as captured: its body was cut at MAX_BODY_BYTES (${MAX} of 500 bytes kept)`) });
    expect(refused.body.error.message).toContain('send the whole body in "body"');
    expect(sentTo('/replay/r')).toEqual([]);
    const edited = await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({ url: `${targetBase}/replay`, body: big.toString() }).expect(200);
    expect(edited.body.records[0]).toMatchObject({ status: 200, edited: true });
    expect(sentTo('/replay/r').map((g) => g.body.length)).toEqual([500]);
  });

  it('a bulk replay counts it failed, with the record saying why; ids the bin does not hold are counted missing, not failed', async () => {
    const bin = await createBin(srv.base);
    const cutId = idOf(await send(`${bin.url}/bulk`, { body: big }));
    const wholeId = idOf(await send(`${bin.url}/bulk`, { body: small }));
    const job = (await request(srv.base).post(`/api/bins/${bin.id}/replay`).send({ url: `${targetBase}/bulk`, ids: [cutId, wholeId, 'nope'] }).expect(202)).body as ReplayJob;
    let now: ReplayJob = job;
    await until(async () => (now = (await request(srv.base).get(`/api/replays/${job.id}`)).body as ReplayJob).state !== 'running', 'the job to end');
    expect(now).toMatchObject({ state: 'finished', total: 3, done: 3, failed: 1, missing: 1, non2xx: 0 });
    expect((await detail(bin.id, cutId)).forwards[0]).toMatchObject({ kind: 'replay', error: 'truncated' });
    expect(sentTo('/bulk/bulk').map((g) => g.body.toString())).toEqual(['whole']);
  });
});
