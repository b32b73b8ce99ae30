// Chunked request trailers cannot be sent on (undici, the forwarder's HTTP client, ends a
// chunked body with no trailer section): a forward, a proxied exchange and a replay (one, or a
// bulk job) of a capture that had some say in their record how many were not sent, so a sender
// signing in a trailer is not left failing at the target with no word why. Real target.
import request from 'supertest';
import { rawCapture } from '../helpers/http.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForwardRecord, RequestDetail } from '../../shared/api.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';
import { type RecordingTarget, recordingTarget } from '../helpers/target.ts';
import { until } from '../helpers/until.ts';

let srv: TestServer;
let target: RecordingTarget;
/** The trailers each request to the target came with, in order. */
const trailersGot: string[][] = [];

beforeAll(async () => {
  srv = await startServer();
  target = await recordingTarget((req, res) => {
    trailersGot.push(req.rawTrailers);
    res.end('thanks');
  });
});
afterAll(async () => {
  target.close();
  await srv.cleanup();
});

/** A chunked POST, with these trailers, over a raw socket; answers the capture id. */
function chunked(url: string, trailers: [string, string][]): Promise<string> {
  const u = new URL(url);
  const announce = trailers.length ? `Trailer: ${trailers.map(([n]) => n).join(', ')}\r\n` : '';
  const head =
    `POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n${announce}Connection: close\r\n\r\n` +
    `7\r\nsigned \r\n4\r\nbody\r\n0\r\n${trailers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  return rawCapture(url, head);
}

const SIGNED: [string, string][] = [
  ['X-Sig', 'abc'],
  ['X-Parts', '2'],
];

const detail = async (binId: string, id: string) => (await request(srv.base).get(`/api/bins/${binId}/requests/${id}`).expect(200)).body as RequestDetail;

async function forwardsOf(binId: string, id: string, n: number): Promise<ForwardRecord[]> {
  await until(async () => (await detail(binId, id)).forwards.length >= n, `${n} forward record(s)`);
  return (await detail(binId, id)).forwards;
}

async function forwardingBin(answerWith: 'bin' | 'target' = 'bin') {
  const bin = await createBin(srv.base);
  await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: `${target.base}/in` }], answerWith }).expect(200);
  return bin;
}

describe('trailers on forwards and replays', () => {
  it('a forward sends the body without its trailers, and its record says how many were not sent', async () => {
    const bin = await forwardingBin();
    const sentBefore = target.got.length;
    const id = await chunked(`${bin.url}/hook`, SIGNED);
    expect((await detail(bin.id, id)).trailers).toEqual(SIGNED);
    const [fwd] = await forwardsOf(bin.id, id, 1);
    expect(fwd).toMatchObject({ kind: 'forward', status: 200, trailersNotSent: 2 });
    // What the target got: the body, whole, with a length, and no trailers.
    const got = target.got[sentBefore];
    expect(got.body.toString()).toBe('signed body');
    expect(trailersGot[sentBefore]).toEqual([]);

    // A replay of it, and a bulk replay job: the same note.
    const replay = await request(srv.base).post(`/api/bins/${bin.id}/requests/${id}/replay`).send({}).expect(200);
    expect(replay.body.records[0]).toMatchObject({ kind: 'replay', status: 200, trailersNotSent: 2 });
    await request(srv.base).post(`/api/bins/${bin.id}/replay`).send({ ids: [id] }).expect(202);
    const all = await forwardsOf(bin.id, id, 3);
    expect(all[2]).toMatchObject({ kind: 'replay', trailersNotSent: 2 });

    // A capture without trailers: no note.
    const plain = await chunked(`${bin.url}/hook`, []);
    const [p] = await forwardsOf(bin.id, plain, 1);
    expect(p.status).toBe(200);
    expect(p).not.toHaveProperty('trailersNotSent');
  });

  it('proxy mode: the record of the exchange that answered the sender says so too', async () => {
    const bin = await forwardingBin('target');
    const id = await chunked(`${bin.url}/hook`, [['X-Sig', 'abc']]);
    const [rec] = await forwardsOf(bin.id, id, 1);
    expect(rec).toMatchObject({ kind: 'proxy', status: 200, trailersNotSent: 1 });
  });
});
