// An export leaves out captures that are gone when their turn comes (pushed out by newer ones
// while a slow reader holds the export back, or deleted). It used to leave them out without a
// word. Now the answer says how many it set out to hold (X-Hooklab-Export-Count) and, in a
// trailer, how many it does not hold; a HAR says it in log.comment; `hooklab export` warns with
// the count and still writes what it got. Real server processes over loopback, the CLI as a
// process, stopped (SIGSTOP) while the bin turns over.
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.ts';
import { send } from '../helpers/http.ts';
import { createBin } from '../helpers/server.ts';
import { spawnedServers } from '../helpers/spawned.ts';
import { until } from '../helpers/until.ts';

const servers = spawnedServers();

/** GET over node:http, for the answer's trailers (fetch has none). */
function getWithTrailers(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; trailers: NodeJS.Dict<string>; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, trailers: res.trailers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('an export that cannot hold every capture it set out to', () => {
  it('ids asked for and not there: counted in the header, the trailer and the HAR comment; a whole export has neither note', async () => {
    const p = await servers.start({});
    const bin = await createBin(p.base);
    const ids: string[] = [];
    for (const n of [0, 1]) ids.push((await send(`${p.base}/h/${bin.id}/r${n}`, { body: `body ${n}` })).headers['x-hooklab-request-id'] as string);
    expect((await fetch(`${p.base}/api/bins/${bin.id}/requests/${ids[0]}`, { method: 'DELETE' })).status).toBe(204);

    const nd = await getWithTrailers(`${p.base}/api/bins/${bin.id}/export?ids=${ids.join(',')}`);
    expect(nd.status).toBe(200);
    expect(nd.headers['x-hooklab-export-count']).toBe('2');
    expect(nd.trailers['x-hooklab-export-missing']).toBe('1');
    expect(nd.body.trim().split('\n').map((l) => (JSON.parse(l) as { path: string }).path)).toEqual(['/r1']);

    const har = await getWithTrailers(`${p.base}/api/bins/${bin.id}/export?format=har&ids=${ids.join(',')}`);
    const log = (JSON.parse(har.body) as { log: { comment?: string; entries: unknown[] } }).log;
    expect(log.entries).toHaveLength(1);
    expect(log.comment).toBe('1 capture asked for is not in the bin (deleted, evicted, or never there): not in this export');
    expect(har.trailers['x-hooklab-export-missing']).toBe('1');

    // HTTP/1.0 (nginx's default to an upstream) and HEAD get no chunked answer, so no trailer:
    // the export still comes whole (a Trailer header there made Node throw: a 500).
    const u = new URL(p.base);
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(Number(u.port), u.hostname, () => sock.write(`GET /api/bins/${bin.id}/export?ids=${ids.join(',')} HTTP/1.0\r\nHost: ${u.host}\r\n\r\n`));
      let got = '';
      sock.on('data', (d) => (got += d));
      sock.on('end', () => resolve(got));
      sock.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw.toLowerCase()).toContain('x-hooklab-export-count: 2');
    expect(raw.toLowerCase()).not.toContain('trailer:');
    expect(raw).toContain('"path":"/r1"');
    expect((await fetch(`${p.base}/api/bins/${bin.id}/export?ids=${ids.join(',')}`, { method: 'HEAD' })).status).toBe(200);

    const whole = await getWithTrailers(`${p.base}/api/bins/${bin.id}/export?format=har`);
    expect(whole.headers['x-hooklab-export-count']).toBe('1');
    expect(whole.trailers['x-hooklab-export-missing']).toBeUndefined();
    expect((JSON.parse(whole.body) as { log: { comment?: string } }).log.comment).toBeUndefined();
  });

  it('captures pushed out while the CLI was stopped: it writes the rest and warns with the count, for NDJSON and HAR', async () => {
    const PER_BIN = 40;
    const d = await servers.dataDir();
    const p = await servers.start({ DATA_DIR: d, MAX_REQUESTS_PER_BIN: String(PER_BIN) });
    const bin = await createBin(p.base);
    // 40 x 500 KB: far more than the CLI reads ahead (4 MB) and loopback buffers hold.
    const fill = async () => {
      for (let n = 0; n < PER_BIN; n++) expect((await send(`${p.base}/h/${bin.id}/big`, { body: randomBytes(500_000) })).status).toBe(200);
    };
    await fill();
    for (const format of ['ndjson', 'har']) {
      const out = path.join(d, `export.${format}`);
      const cli = spawnCli(p.base, ['export', bin.id, '--format', format, '--out', out]);
      await until(async () => ((await stat(`${out}.partial`).catch(() => null))?.size ?? 0) > 0, 'the export to begin');
      cli.proc.kill('SIGSTOP');
      try {
        await fill(); // every capture it set out to hold is pushed out
      } finally {
        cli.proc.kill('SIGCONT');
      }
      const r = await cli.done;
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: '' });
      const text = await readFile(out, 'utf8');
      const got = format === 'ndjson' ? text.split('\n').length - 1 : (JSON.parse(text) as { log: { entries: unknown[] } }).log.entries.length;
      const missing = PER_BIN - got;
      expect(missing, 'captures still unread when the bin turned over').toBeGreaterThan(0);
      expect(r.stderr).toBe(`hooklab: warning: ${missing} capture${missing === 1 ? '' : 's'} left the bin while it was exported (evicted by newer ones, or deleted): not in this export\n`);
    }
  });
});
