// Chunked request trailers (a sender signing in a trailer) survive an export and its import:
// NDJSON (`trailers`, the API's and `hooklab export`'s) and HAR (`_hooklab.trailers`). An older
// export line without them still imports; imports count them with the headers against
// MAX_HEADER_COUNT, as the receiver does for live captures.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import hv from 'har-validator';
import request from 'supertest';
import { rawCapture } from '../helpers/http.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage } from '../../shared/api.ts';
import type { LowdbStore } from '../../server/store/lowdb.ts';
import { runCli } from '../helpers/cli.ts';
import { exportLine } from '../helpers/export-line.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ config: { maxHeaderCount: 16 } });
});
afterAll(() => srv.cleanup());

const TRAILERS: [string, string][] = [
  ['X-Sig', 'abc'],
  ['X-Parts', '2'],
];

/** A chunked POST with trailers, over a raw socket; answers the capture id. */
function chunkedWithTrailers(url: string): Promise<string> {
  const u = new URL(url);
  const head =
    `POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sig, X-Parts\r\nConnection: close\r\n\r\n` +
    `5\r\nhello\r\n6\r\n world\r\n0\r\n${TRAILERS.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  return rawCapture(url, head);
}

const onlyDetail = async (binId: string): Promise<RequestDetail> => {
  const page = (await request(srv.base).get(`/api/bins/${binId}/requests`).expect(200)).body as RequestPage;
  expect(page.requests).toHaveLength(1);
  return (await request(srv.base).get(`/api/bins/${binId}/requests/${page.requests[0].id}`).expect(200)).body;
};

const importInto = (binId: string, type: string, text: string) => request(srv.base).post(`/api/bins/${binId}/import`).set('content-type', type).send(text);

async function captured(): Promise<{ id: string; detail: RequestDetail }> {
  const bin = await createBin(srv.base);
  await chunkedWithTrailers(`${bin.url}/signed`);
  const detail = await onlyDetail(bin.id);
  expect(detail.trailers).toEqual(TRAILERS);
  expect(detail.body).toBe('hello world');
  return { id: bin.id, detail };
}

describe('trailers in exports and imports', () => {
  it('NDJSON (API and `hooklab export`): the line has them, and an import into a new bin shows the same trailers', async () => {
    const from = await captured();
    const ndjson = (await request(srv.base).get(`/api/bins/${from.id}/export`).expect(200)).text;
    expect(JSON.parse(ndjson.trim()).trailers).toEqual(TRAILERS);
    const to = await createBin(srv.base);
    expect((await importInto(to.id, 'application/x-ndjson', ndjson).expect(200)).body).toEqual({ imported: 1, evicted: 0 });
    const d = await onlyDetail(to.id);
    expect(d.trailers).toEqual(TRAILERS);
    expect(d.headers).toEqual(from.detail.headers);
    expect(d.body).toBe('hello world');

    const out = path.join(srv.dataDir, 'trailers.ndjson');
    const cli = await runCli(srv.base, ['export', from.id, '--out', out]);
    expect(cli.code, cli.stderr).toBe(0);
    const again = await createBin(srv.base);
    await importInto(again.id, 'application/x-ndjson', await readFile(out, 'utf8')).expect(200);
    expect((await onlyDetail(again.id)).trailers).toEqual(TRAILERS);
  });

  it('HAR: `_hooklab.trailers` (still valid HAR 1.2), and an import shows the same trailers', async () => {
    const from = await captured();
    const text = (await request(srv.base).get(`/api/bins/${from.id}/export?format=har`).expect(200)).text;
    const har = JSON.parse(text);
    await expect(hv.har(har)).resolves.toBeTruthy();
    expect(har.log.entries[0]._hooklab.trailers).toEqual(TRAILERS.map(([name, value]) => ({ name, value })));
    const to = await createBin(srv.base);
    await importInto(to.id, 'application/json', text).expect(200);
    const d = await onlyDetail(to.id);
    expect(d.trailers).toEqual(TRAILERS);
    expect(d.body).toBe('hello world');
  });

  it('an export line or HAR entry without trailers (older exports, other tools) imports with none', async () => {
    const to = await createBin(srv.base);
    await importInto(to.id, 'application/x-ndjson', exportLine()).expect(200);
    expect((await onlyDetail(to.id)).trailers).toBeUndefined();
    const other = await createBin(srv.base);
    const har = { log: { entries: [{ startedDateTime: '2026-01-02T03:04:05.678Z', request: { method: 'POST', url: 'https://x.example/h', headers: [] } }] } };
    await importInto(other.id, 'application/json', JSON.stringify(har)).expect(200);
    expect((await onlyDetail(other.id)).trailers).toBeUndefined();
  });

  it('a trailer a request cannot carry is refused, naming it; headers and trailers together are at most MAX_HEADER_COUNT', async () => {
    const to = await createBin(srv.base);
    const bad = await importInto(to.id, 'application/x-ndjson', exportLine({ trailers: [['X Sig', 'abc']] })).expect(400);
    expect(bad.body.error.message).toMatch(/^line 1: trailers\[0\]\[0\]: header name "X Sig" must be an HTTP token/);

    // 1 header + 16 trailers: one past MAX_HEADER_COUNT (16), as a live capture would be (431).
    const many = Array.from({ length: 16 }, (_, i) => [`X-T${i}`, 'v']);
    const crowded = await importInto(to.id, 'application/x-ndjson', exportLine({ trailers: many })).expect(400);
    expect(crowded.body.error.message).toMatch(/^line 1: headers and trailers: at most 16 header and trailer fields \(MAX_HEADER_COUNT\), as a live capture/);
    const entry = (trailers: unknown[]) => ({
      log: { entries: [{ startedDateTime: '2026-01-02T03:04:05.678Z', request: { method: 'POST', url: 'https://x.example/h', headers: [{ name: 'A', value: '1' }] }, _hooklab: { trailers } }] },
    });
    const h = await importInto(to.id, 'application/json', JSON.stringify(entry(many.map(([name, value]) => ({ name, value }))))).expect(400);
    expect(h.body.error.field).toBe('log.entries[0]._hooklab.trailers');
    const hb = await importInto(to.id, 'application/json', JSON.stringify(entry([{ name: 'X-Sig', value: 'a\nb' }]))).expect(400);
    expect(hb.body.error.field).toBe('log.entries[0]._hooklab.trailers[0].value');
    expect(((await request(srv.base).get(`/api/bins/${to.id}/requests`).expect(200)).body as RequestPage).requests).toHaveLength(0);

    // 1 header + 15 trailers: within it.
    await importInto(to.id, 'application/x-ndjson', exportLine({ trailers: many.slice(1) })).expect(200);
    expect((await onlyDetail(to.id)).trailers).toHaveLength(15);
  });

  it("an imported capture's trailers count toward MAX_STORE_BYTES, as a live capture's do", async () => {
    const to = await createBin(srv.base);
    const counted = () => (srv.store as LowdbStore).requests.index.totalBytes;
    const before = counted();
    await importInto(to.id, 'application/x-ndjson', exportLine({ trailers: [['X-Pad', 'v'.repeat(40_000)]] })).expect(200);
    expect(counted() - before).toBeGreaterThan(40_000);
  });
});
