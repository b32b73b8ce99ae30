// Proxy mode and MAX_BUFFERED_BYTES: a proxied capture's body is held (and copied to the
// forwarding thread) until its target answers, so its bytes stay counted until the exchange
// ends. A target that never answers made a 64 MiB budget hold 248 MB of bodies (RSS +530 MB);
// now senders past the budget get the receiver's 503 busy + Retry-After, and the budget comes
// back whichever way the exchange ends. Real server processes (compiled), over loopback.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { createBin, json, tempDir } from '../helpers/server.ts';

const BODY = 256 * 1024;
/** Exactly four bodies: a fifth is over, and one byte still reserved keeps out the fourth. */
const BUDGET = 4 * BODY;

const dirs: string[] = [];
const procs: ServerProcess[] = [];
let target: http.Server;
let targetBase: string;
/** The target's requests not answered yet (each read in full), oldest first. */
const waiting: { res: http.ServerResponse; socket: import('node:net').Socket }[] = [];

beforeAll(async () => {
  // Holds every request until the test says how it ends.
  target = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => waiting.push({ res, socket: req.socket }));
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetBase = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const p of procs) p.proc.kill('SIGKILL');
  target.closeAllConnections();
  await new Promise((r) => target.close(r));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function start(env: Record<string, string>) {
  const dataDir = await tempDir();
  dirs.push(dataDir);
  const p = await spawnServer({ DATA_DIR: dataDir, MAX_BODY_BYTES: String(BODY), MAX_BUFFERED_BYTES: String(BUDGET), FLUSH_INTERVAL_MS: '50', ...env });
  procs.push(p);
  const bin = await createBin(p.base);
  const put = await json(p.base, 'PUT', `/api/bins/${bin.id}/forward`, { targets: [{ url: `${targetBase}/app` }], answerWith: 'target' });
  expect(put.status).toBe(200);
  return { p, url: `${p.base}/h/${bin.id}` };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, ms = 20_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface Sent {
  /** The sender's answer: status and Retry-After (status 0: its connection was dropped). */
  answer: Promise<{ status: number; retryAfter: string | undefined }>;
  req: http.ClientRequest;
}

function post(url: string): Sent {
  const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-length': BODY } });
  const answer = new Promise<{ status: number; retryAfter: string | undefined }>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
      res.on('error', () => resolve({ status: 0, retryAfter: undefined }));
    });
    req.on('error', () => resolve({ status: 0, retryAfter: undefined }));
  });
  req.end(Buffer.alloc(BODY, 120));
  return { answer, req };
}

/** Send one: 'held' once the target has it (its exchange is in flight), else the answer. */
async function sendOne(url: string): Promise<{ s: Sent; held: boolean; status: number; retryAfter?: string }> {
  const before = waiting.length;
  const s = post(url);
  let answered: { status: number; retryAfter: string | undefined } | null = null;
  void s.answer.then((r) => (answered = r));
  await until(() => waiting.length > before || answered !== null, 'an answer or the target');
  if (waiting.length > before) return { s, held: true, status: 0 };
  const a = answered as unknown as { status: number; retryAfter: string | undefined };
  return { s, held: false, status: a.status, retryAfter: a.retryAfter };
}

/**
 * Get `n` captures held at the target, one after another, each retried (as a sender would)
 * while it is answered 503: right after a capture, its bytes also count as not yet written
 * for a moment. A leaked reservation makes the last one wait forever (the bound fails it).
 */
async function hold(url: string, n: number): Promise<Sent[]> {
  const held: Sent[] = [];
  const end = Date.now() + 20_000;
  while (held.length < n) {
    const r = await sendOne(url);
    if (r.held) {
      held.push(r.s);
      continue;
    }
    expect(r.status, 'refused while a slot is coming free').toBe(503);
    if (Date.now() > end) throw new Error(`only ${held.length} of ${n} captures could be held: the budget did not come back`);
    await sleep(50);
  }
  return held;
}

/** With the budget full, a new sender is refused 503 + Retry-After, again and again. */
async function refusedWhileHeld(url: string, tries = 5) {
  // Several tries, apart: the bytes not yet written are on disk by the later ones, so only
  // the held bodies can keep them out.
  for (let i = 0; i < tries; i++) {
    await sleep(200);
    const r = await sendOne(url);
    expect(r.held, `try ${i + 1} was let through to the target`).toBe(false);
    expect(r.status, `try ${i + 1}`).toBe(503);
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
  }
}

describe('proxy mode counts held bodies in MAX_BUFFERED_BYTES', () => {
  it('past the budget senders get 503 + Retry-After; the budget comes back after an answer, a target error and a sender that left', async () => {
    const { url } = await start({ FORWARD_TIMEOUT_MS: '120000' });

    // The target answers: the senders get its answer, and the budget is whole again.
    let held = await hold(url, 4);
    await refusedWhileHeld(url);
    for (const w of waiting.splice(0)) w.res.end('ok');
    for (const s of held) expect((await s.answer).status).toBe(200);

    // The target fails (drops the connections): 502 to the senders, the budget whole again.
    held = await hold(url, 4);
    await refusedWhileHeld(url);
    for (const w of waiting.splice(0)) w.socket.destroy();
    for (const s of held) expect((await s.answer).status).toBe(502);

    // The senders leave while their target still works: the bodies are held (and counted)
    // until the exchanges end, then given back.
    held = await hold(url, 4);
    for (const s of held) s.req.destroy();
    await sleep(300);
    await refusedWhileHeld(url);
    for (const w of waiting.splice(0)) w.res.end('late');

    // Back to zero: four whole bodies fit again (one byte leaked would keep one out).
    held = await hold(url, 4);
    for (const w of waiting.splice(0)) w.res.end('ok');
    for (const s of held) expect((await s.answer).status).toBe(200);
  });

  it('a target that never answers: 504 at FORWARD_TIMEOUT_MS, and the budget comes back', async () => {
    const { url } = await start({ FORWARD_TIMEOUT_MS: '3000' });
    const held = await hold(url, 4);
    await refusedWhileHeld(url, 1);
    for (const s of held) expect((await s.answer).status).toBe(504);
    waiting.splice(0).forEach((w) => w.socket.destroy());
    const again = await hold(url, 4);
    for (const s of again) expect((await s.answer).status).toBe(504);
    waiting.splice(0).forEach((w) => w.socket.destroy());
  });
});
