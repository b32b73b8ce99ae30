// JSON bodies nested thousands deep, sent by a stranger to a receiver URL: a few KB that a
// recursive walk cannot take (the stack overflows) and JSON.parse takes slowly. A real server
// process, so that a crash shows as one: it must keep answering, and judge such bodies
// without parsing them.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../shared/api.ts';
import { nestsWithin } from '../../server/lib/json-depth.ts';
import { api, send } from '../helpers/http.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';

let srv: ServerProcess;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hooklab-deep-'));
  srv = await spawnServer({ DATA_DIR: dir });
});

afterAll(async () => {
  if (srv.proc.exitCode === null && srv.proc.signalCode === null) srv.proc.kill('SIGKILL');
  await srv.exited;
  await rm(dir, { recursive: true, force: true });
});

const deep = (levels: number, open = '[', close = ']') => `[${open.repeat(levels)}${close.repeat(levels)}]`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const alive = () => srv.proc.exitCode === null && srv.proc.signalCode === null;

async function newBin(): Promise<{ id: string; url: string }> {
  return (await api<{ id: string; url: string }>(srv.base, 'POST', '/api/bins', {})).body;
}

async function detail(binId: string, id: string): Promise<RequestDetail> {
  for (let i = 0; i < 100; i++) {
    const d = (await api<RequestDetail>(srv.base, 'GET', `/api/bins/${binId}/requests/${id}`)).body;
    if (d.verification) return d;
    await sleep(50);
  }
  throw new Error('no verdict');
}

describe('deeply nested JSON bodies', () => {
  it('a signature check of one keeps the server up (before: a stack overflow ended the process) and says invalid; a settings change re-checks it with a 200', async () => {
    const bin = await newBin();
    expect((await api(srv.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [{ type: 'github', secrets: ['s3cret'] }] })).status).toBe(200);
    const r = await send(`${bin.url}`, { headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }, body: deep(5000) });
    expect(r.status).toBe(200);
    const id = r.headers['x-hooklab-request-id'] as string;
    const d = await detail(bin.id, id);
    expect(d.verification!.status).toBe('invalid');
    expect(alive()).toBe(true);
    // Re-checked under new settings: answered, not a 500 with the settings half applied.
    const put = await api(srv.base, 'PUT', `/api/bins/${bin.id}/verify`, { schemes: [{ type: 'github', secrets: ['other'] }] });
    expect(put.status).toBe(200);
    expect((await api(srv.base, 'GET', '/api/health')).status).toBe(200);
    expect(alive()).toBe(true);
  }, 60_000);

  it('a Stripe-looking one is not parsed for its event id, and a JSON match does not parse it: no key, no match, the server answers', async () => {
    const bin = await newBin();
    // A plan that matches on the body's JSON: the body must not be parsed for it.
    const plan = await api(srv.base, 'PUT', `/api/bins/${bin.id}/response`, { plan: [{ status: 418, times: 100, match: { json: { path: 'object', equals: 'event' } } }] });
    expect(plan.status).toBe(200);
    const body = `{"object":"event","id":"evt_1","x":${deep(200_000)}}`;
    const r = await send(`${bin.url}`, { headers: { 'content-type': 'application/json' }, body });
    expect(r.status).toBe(200);
    const id = r.headers['x-hooklab-request-id'] as string;
    const d = (await api<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).body;
    expect(d.idempotency ?? null).toBeNull();
    // A shallow one still gets its key.
    const ok = await send(`${bin.url}`, { headers: { 'content-type': 'application/json' }, body: '{"object":"event","id":"evt_2"}' });
    expect(ok.status).toBe(418); // the match works on a body of usual depth
    const d2 = (await api<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${ok.headers['x-hooklab-request-id']}`)).body;
    expect(d2.idempotency?.key).toBe('evt_2');
    expect(alive()).toBe(true);
  }, 60_000);
});

describe('nestsWithin', () => {
  it('counts objects and arrays, not brackets inside strings (escaped quotes too)', () => {
    const b = (s: string) => Buffer.from(s);
    expect(nestsWithin(b('{"a":[1,{"b":2}]}'), 3)).toBe(true);
    expect(nestsWithin(b('{"a":[1,{"b":[2]}]}'), 3)).toBe(false);
    expect(nestsWithin(b('{"a":"[[[[[[[[[[{{{{"}'), 1)).toBe(true);
    expect(nestsWithin(b('{"a":"\\"[[[[[[[[","b":1}'), 1)).toBe(true);
    expect(nestsWithin(b(deep(200)))).toBe(false);
    expect(nestsWithin(b(deep(100)))).toBe(true);
  });
});
