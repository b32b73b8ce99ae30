// hooklab fire: the reference dispatcher as a standalone sender (no hooklab server), run as a
// real process against a real receiver: retries on the schedule with a fast clock, signs with
// the given secret, prints each attempt, and exits 0 delivered / 1 gave up / 2 bad arguments.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'bin/hooklab.js');
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

interface Got {
  headers: Record<string, string>;
  body: string;
}
const got: Got[] = [];
/** Answers by attempt number (1-based); default 200. */
let answer: (n: number) => number = () => 200;
let srv: http.Server;
let url = '';

beforeAll(async () => {
  srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers as Record<string, string>, body });
      res.writeHead(answer(got.length)).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hooks`;
});
afterAll(() => srv.close());

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawn(process.execPath, [CLI, 'fire', ...args], { cwd: ROOT, env: { ...process.env, HOOKLAB_SERVER: '' } });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) => p.on('close', (code) => resolve({ code, out, err })));
}

describe('hooklab fire', () => {
  it('retries on the schedule until delivered, signed, one line per attempt; exit 0', async () => {
    got.length = 0;
    answer = (n) => (n < 3 ? 500 : 200);
    const r = await run(['--url', url, '--event', 'sync_end', '--status', 'FAILED', '--secret', SECRET]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^attempt 1 {2}sync_end {2}\+0 ms \(virtual\) {2}-> 500/);
    expect(lines[2]).toMatch(/^attempt 3 .*-> 200 ok/);
    expect(r.err).toContain('delivered after 3 attempt(s)');
    expect(got).toHaveLength(3);
    // The same message each time, signed so the receiver's own library accepts it.
    expect(new Set(got.map((g) => g.headers['webhook-id'])).size).toBe(1);
    for (const g of got) expect(new StandardWebhook(SECRET).verify(g.body, g.headers)).toMatchObject({ event: 'sync_end', status: 'FAILED' });
  });

  it('gives up after the last planned attempt (the 24 h Portable schedule in seconds); exit 1', async () => {
    got.length = 0;
    answer = () => 503;
    const r = await run(['--url', url, '--event', 'sync_start', '--json']);
    expect(r.code).toBe(1);
    const attempts = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(attempts.map((a) => a.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(attempts.every((a) => a.status === 503 && a.event === 'sync_start')).toBe(true);
    // The last one on the deadline, 24 h (virtual) after the first.
    expect(Date.parse(attempts[8].sentAt) - Date.parse(attempts[0].sentAt)).toBe(86_400_000);
    expect(r.err).toMatch(/hooklab: gave up after 9 attempt\(s\)/);
    expect(got).toHaveLength(9);
  });

  it('a test event is one attempt; bad arguments get one line and exit 2', async () => {
    got.length = 0;
    answer = () => 500;
    const t = await run(['--url', url, '--event', 'test']);
    expect(t.code).toBe(1);
    expect(got).toHaveLength(1);
    // Sent at once: not the ms it took to start times the clock's scale (before: "+86.4 s (virtual)").
    expect(t.out).toMatch(/^attempt 1 {2}test {2}now {2}-> 500 /);
    for (const [args, message] of [
      [['--url', 'ftp://x'], '--url: must use http or https'],
      [['--url', url, '--event', 'nope'], '--event must be one of sync_start, sync_end, test'],
      [['--url', url, '--schedule', 'weekly'], '--schedule: must be one of'],
      [['--url', url, '--secret', 'hunter2'], '--secret: must be "whsec_"'],
      [['--url', url, '--scale', 'fast'], '--scale must be a number'],
      // A bare number was taken as milliseconds: refused, asking for the unit.
      [['--url', url, '--timeout', '10'], '--timeout 10 has no unit: write 10s, 10ms or 10m'],
    ] as const) {
      const r = await run([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toContain(message);
      expect(r.err).not.toContain('hunter2');
    }
  });
});
