// A capture cut at MAX_BODY_BYTES is replayed with its whole body in "body" (the 409
// body_truncated says so). That body is over MAX_BODY_BYTES, a third more as base64, and the
// API read JSON up to 1 MB only: with defaults the advice always ended in 413. A single replay
// now takes a JSON body of MAX_BODY_BYTES in base64 plus 1 MB; every other route keeps 1 MB.
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';
import { type RecordingTarget, recordingTarget } from '../helpers/target.ts';

const MAX = 900_000;
let srv: TestServer;
let target: RecordingTarget;

beforeAll(async () => {
  srv = await startServer({ config: { maxBodyBytes: MAX } });
  target = await recordingTarget((_q, res, body) => res.end(`got ${body.length}`));
});
afterAll(async () => {
  target.close();
  await srv.cleanup();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;

describe('replaying a truncated capture with its whole body', () => {
  it('a JSON body over 1 MB (the whole body in base64) is read, and the target gets the bytes exactly', async () => {
    const whole = randomBytes(1_000_000);
    const bin = await createBin(srv.base);
    const id = idOf(await send(`${bin.url}/big`, { headers: { 'content-type': 'application/octet-stream' }, body: whole }));
    await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({ url: `${target.base}/r` }).expect(409);
    const json = JSON.stringify({ url: `${target.base}/r`, body: whole.toString('base64'), bodyEncoding: 'base64' });
    expect(json.length).toBeGreaterThan(1024 * 1024);
    const r = await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).set('content-type', 'application/json').send(json);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.records[0]).toMatchObject({ status: 200, edited: true, error: null });
    const got = target.got.filter((g) => g.url === '/r/big');
    expect(got).toHaveLength(1);
    expect(got[0].body.length).toBe(whole.length);
    expect(sha(got[0].body)).toBe(sha(whole));
  });

  it('past MAX_BODY_BYTES in base64 plus 1 MB the replay is 413, saying its limit', async () => {
    const bin = await createBin(srv.base);
    const id = idOf(await send(`${bin.url}/x`, { body: 'small' }));
    const limit = Math.ceil(MAX / 3) * 4 + 1024 * 1024;
    const json = JSON.stringify({ url: `${target.base}/over`, body: 'A'.repeat(limit) });
    const r = await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).set('content-type', 'application/json').send(json);
    expect(r.status).toBe(413);
    expect(r.body.error).toEqual({ code: 'too_large', message: `request body is larger than ${limit.toLocaleString('en-US')} bytes` });
    expect(target.got.filter((g) => g.url.startsWith('/over'))).toEqual([]);
  });

  it('other routes still take 1 MB at most', async () => {
    const bin = await createBin(srv.base);
    const json = JSON.stringify({ targets: [{ url: `${target.base}/${'a'.repeat(1_100_000)}` }] });
    const r = await request(srv.base).put(`/api/bins/${bin.id}/forward`).set('content-type', 'application/json').send(json);
    expect(r.status).toBe(413);
    expect(r.body.error).toEqual({ code: 'too_large', message: 'request body is larger than 1 MB' });
    // Nor does a path that only starts like a replay get the larger limit.
    const other = await request(srv.base).post(`/api/bins/${bin.id}/replay`).set('content-type', 'application/json').send(JSON.stringify({ ids: ['x'.repeat(1_100_000)] }));
    expect(other.status).toBe(413);
  });
});
