// An NDJSON import is bounded per line, and a client that leaves mid-import is no server error.
// Real server processes (compiled, as `npm start` runs them): a line with no end used to grow
// memory with it until readline threw, uncaught, and the process died.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnedServers } from '../helpers/spawned.ts';
import { exportLine } from '../helpers/export-line.ts';
import type { RequestPage } from '../../shared/api.ts';
import type { ServerProcess } from '../helpers/process.ts';
import { createBin, json } from '../helpers/server.ts';

const { start } = spawnedServers();

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

/** An export line of a small capture. */
const line = (i: number) => exportLine({ id: `x${i}`, path: `/p${i}` }) + '\n';

/**
 * POST an import over a raw socket, chunked: `first`, then (when `endless` is set) "a" bytes,
 * 64 KiB at a time, up to that many bytes, until the server answers or closes.
 */
function upload(base: string, binId: string, first: string, endless = 0) {
  const u = new URL(base);
  const s = net.connect(Number(u.port), u.hostname);
  s.on('error', () => {});
  let answer = '';
  let sent = 0;
  let sentAtAnswer = -1;
  const answered = new Promise<string>((resolve) => {
    s.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      if (sentAtAnswer === -1) sentAtAnswer = sent;
      if (/\r\n\r\n[\s\S]*\}/.test(answer)) resolve(answer);
    });
    s.on('close', () => resolve(answer));
  });
  const chunk = (b: string | Buffer) => `${Buffer.byteLength(b).toString(16)}\r\n`;
  s.on('connect', async () => {
    s.write(`POST /api/bins/${binId}/import HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n`);
    s.write(chunk(first) + first + '\r\n');
    const a = Buffer.alloc(64 * 1024, 'a');
    while (sent < endless && !s.destroyed && !answer) {
      const ok = s.write(chunk(a)) && s.write(a) && s.write('\r\n');
      sent += a.length;
      if (!ok) await new Promise((r) => s.once('drain', r).once('close', r));
    }
  });
  return { socket: s, answered, sent: () => sent, sentAtAnswer: () => sentAtAnswer };
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('{'), answer.lastIndexOf('}') + 1));
const paths = async (base: string, binId: string) =>
  (await json<RequestPage>(base, 'GET', `/api/bins/${binId}/requests?limit=500`)).body.requests.map((r) => r.path).reverse();

describe('NDJSON import limits', () => {
  // MAX_BODY_BYTES and MAX_HEADER_BYTES small: the line cap (4/3 of the one, 20x the other for
  // headers and trailers, plus 64 KiB) is then about 86 KB, and a line far past it costs the test little.
  let p: ServerProcess;
  beforeAll(async () => {
    p = await start({ MAX_BODY_BYTES: '1024', MAX_HEADER_BYTES: '1024' });
  });

  it('a line far past the cap: 413 line_too_large naming it, read no further, the lines before it kept, memory flat', async () => {
    const bin = await createBin(p.base);
    const before = rssMb(p.proc.pid!);
    const total = 64 * 1024 * 1024;
    const up = upload(p.base, bin.id, line(1) + line(2), total);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(p.proc.pid!))), 20);
    const answer = await up.answered;
    clearInterval(sampler);
    up.socket.destroy();
    expect(statusOf(answer)).toBe(413);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    const err = bodyOf(answer).error;
    expect(err.code).toBe('line_too_large');
    expect(err.field).toBe('line 3');
    expect(err.message).toMatch(/^line 3 is longer than \d+ bytes.*MAX_BODY_BYTES.*\(the 2 capture\(s\) before it were imported\)$/);
    // Answered once the cap was passed, not after the whole line: what the client had sent
    // by then is what sat in socket buffers, far from the 64 MiB.
    expect(up.sentAtAnswer()).toBeGreaterThan(0);
    expect(up.sentAtAnswer()).toBeLessThan(total / 2);
    console.log(`64 MiB line: answered after ${(up.sentAtAnswer() / 1024 / 1024).toFixed(1)} MiB sent; RSS ${Math.round(before)} MB before, peak ${Math.round(peak)} MB`);
    expect(peak - before).toBeLessThan(48);
    expect(await paths(p.base, bin.id)).toEqual(['/p1', '/p2']);
    expect((await json(p.base, 'GET', '/api/health')).status).toBe(200);
  });

  it('a client that leaves mid-import: no ERROR (one INFO line, no bin id), the lines before it kept, the server serves on', async () => {
    const bin = await createBin(p.base);
    const up = upload(p.base, bin.id, line(1) + line(2) + '{"id":"half a line');
    await expect.poll(() => paths(p.base, bin.id)).toEqual(['/p1', '/p2']);
    const from = p.output().length;
    up.socket.destroy();
    // Either what the import says now, or the old "unhandled API error".
    await expect.poll(() => /client went away|unhandled API error/.test(p.output().slice(from))).toBe(true);
    const out = p.output().slice(from);
    expect(out).not.toMatch(/ERROR|unhandled/);
    expect(out).toMatch(/INFO import: the client went away.*\{"imported":2\}/);
    expect(out).not.toContain(bin.id);
    expect(out).not.toMatch(/\n\s+at /); // no stack
    expect((await json(p.base, 'GET', '/api/health')).status).toBe(200);
    expect(await paths(p.base, bin.id)).toEqual(['/p1', '/p2']);
  });

  it('REQUEST_TIMEOUT_MS ending an import mid-line: 408, no ERROR, the lines before it kept', async () => {
    const t = await start({ REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '1000' });
    const bin = await createBin(t.base);
    const from = t.output().length;
    const up = upload(t.base, bin.id, line(1) + line(2) + '{"id":"and then nothing');
    const answer = await up.answered;
    expect(statusOf(answer)).toBe(408);
    await expect.poll(() => /client went away|unhandled API error/.test(t.output().slice(from))).toBe(true);
    expect(t.output().slice(from)).not.toMatch(/ERROR|unhandled/);
    expect(await paths(t.base, bin.id)).toEqual(['/p1', '/p2']);
    expect((await json(t.base, 'GET', '/api/health')).status).toBe(200);
  });
});
