// Issue 3: response control over real HTTP.
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, ResponseControlView } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/until.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ config: { hangTimeoutMs: 60_000 } });
});
afterAll(() => srv.cleanup());

async function binWith(plan: object) {
  const bin = await createBin(srv.base);
  await request(srv.base).put(`/api/bins/${bin.id}/response`).send(plan).expect(200);
  return bin;
}

describe('response control over HTTP', () => {
  it('"500 x2 then 200" answers 500, 500, 200, 200', async () => {
    const bin = await binWith({ plan: [{ status: 500, times: 2 }] });
    const got: number[] = [];
    for (let i = 0; i < 4; i++) got.push((await send(bin.url, { body: 'x' })).status);
    expect(got).toEqual([500, 500, 200, 200]);
  });

  it('custom status, headers, body and content type are sent', async () => {
    const bin = await binWith({ default: { status: 202, headers: { 'X-Hooklab-Test': 'yes' }, body: '{"accepted":true}', contentType: 'application/json' } });
    const r = await send(bin.url, { body: 'x' });
    expect(r.status).toBe(202);
    expect(r.headers['x-hooklab-test']).toBe('yes');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body.toString()).toBe('{"accepted":true}');
  });

  it("the bin's headers go as given: names in their case, two alike but for case both sent, hooklab's defaults replaced", async () => {
    const bin = await binWith({ default: { status: 200, contentType: 'text/plain', headers: { 'X-Custom-Thing': 'v', 'x-a': '1', 'X-A': '2', 'Content-Type': 'application/vnd.x+json' } } });
    const r = await send(bin.url, { body: 'x' });
    const pairs: [string, string][] = [];
    for (let i = 0; i < r.rawHeaders.length; i += 2) pairs.push([r.rawHeaders[i], r.rawHeaders[i + 1]]);
    expect(pairs).toContainEqual(['X-Custom-Thing', 'v']);
    expect(pairs.filter(([n]) => n.toLowerCase() === 'x-a')).toEqual([['x-a', '1'], ['X-A', '2']]);
    expect(pairs.filter(([n]) => n.toLowerCase() === 'content-type')).toEqual([['Content-Type', 'application/vnd.x+json']]);
    // hooklab's own are still there, once each.
    expect(pairs.filter(([n]) => n === 'x-hooklab-request-id')).toHaveLength(1);
    expect(pairs.filter(([n]) => n.toLowerCase() === 'content-security-policy')).toEqual([['content-security-policy', 'sandbox']]);
  });

  it('"503 with Retry-After: 120, then 200"', async () => {
    const bin = await binWith({ plan: [{ status: 503, headers: { 'retry-after': '120' } }] });
    const a = await send(bin.url, { body: 'x' });
    expect(a.status).toBe(503);
    expect(a.headers['retry-after']).toBe('120');
    expect((await send(bin.url, { body: 'x' })).status).toBe(200);
  });

  it('a timeout step leaves the client without an answer until its own timeout', async () => {
    const bin = await binWith({ plan: [{ fault: 'timeout' }] });
    const err = await send(bin.url, { body: 'x', timeoutMs: 300 }).catch((e) => e);
    expect(err.code).toBe('CLIENT_TIMEOUT');
    // The request was still captured, recorded as answered by the timeout fault.
    const list = (await request(srv.base).get(`/api/bins/${bin.id}/requests`).expect(200)).body;
    expect(list.requests[0].answer).toMatchObject({ status: null, fault: 'timeout', source: 'step', index: 0 });
    expect((await send(bin.url, { body: 'x' })).status).toBe(200);
  });

  it('a sender that hangs up before a slow answer (or a hang) goes: the capture says it never got it, and when; one that waits: nothing said', async () => {
    const bin = await binWith({ plan: [{ status: 200, delayMs: 5000 }, { fault: 'timeout' }, { status: 201, delayMs: 100 }] });
    const answerOf = async (n: number) => (await request(srv.base).get(`/api/bins/${bin.id}/requests`).expect(200)).body.requests.at(-n).answer;
    for (const [n, what] of [[1, 'the slow 200'], [2, 'the hang']] as const) {
      const err = await send(bin.url, { body: 'x', timeoutMs: 300 }).catch((e) => e);
      expect(err.code, what).toBe('CLIENT_TIMEOUT');
      await until(async () => (await answerOf(n)).hungUpAfterMs !== undefined, `${what}: the hang-up recorded`);
      const a = await answerOf(n);
      // Counted from the request's arrival; the sender's 300 ms is an idle timeout, from its last byte.
      expect(a.hungUpAfterMs, what).toBeGreaterThan(100);
      expect(a.hungUpAfterMs, what).toBeLessThan(5000);
      expect(a).toMatchObject(n === 1 ? { status: 200, delayMs: 5000 } : { status: null, fault: 'timeout' });
      // The detail says so too (the row and the detail are one record).
      const id = (await request(srv.base).get(`/api/bins/${bin.id}/requests`).expect(200)).body.requests.at(-n).id;
      expect((await request(srv.base).get(`/api/bins/${bin.id}/requests/${id}`).expect(200)).body.answer.hungUpAfterMs).toBe(a.hungUpAfterMs);
    }
    // Waited for: answered, nothing said.
    expect((await send(bin.url, { body: 'x', timeoutMs: 5000 })).status).toBe(201);
    await new Promise((r) => setTimeout(r, 100));
    expect((await answerOf(3)).hungUpAfterMs).toBeUndefined();
  });

  it('a connection hooklab closes itself (MAX_PIPELINED) is no sender hanging up', async () => {
    const s = await startServer({ storage: 'memory', config: { maxPipelined: 2 } });
    try {
      const bin = await createBin(s.base);
      await request(s.base).put(`/api/bins/${bin.id}/response`).send({ default: { status: 200, delayMs: 20_000 } }).expect(200);
      const u = new URL(bin.url);
      const sock = net.connect(Number(u.port), u.hostname);
      const closed = new Promise<void>((r) => sock.on('close', () => r()));
      sock.on('error', () => {});
      const one = `POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: 1\r\n\r\nx`;
      // Two wait for their slow answers; the third is one too many, and hooklab closes the connection.
      sock.write(one + one);
      await until(async () => (await request(s.base).get(`/api/bins/${bin.id}/requests`)).body.requests.length === 2, 'two captures');
      sock.write(one);
      await closed;
      await new Promise((r) => setTimeout(r, 200));
      const { requests } = (await request(s.base).get(`/api/bins/${bin.id}/requests`)).body;
      expect(requests.map((r: { answer: { hungUpAfterMs?: number } }) => r.answer.hungUpAfterMs)).toEqual([undefined, undefined]);
    } finally {
      await s.cleanup();
    }
  });

  it('the server bounds a hang and frees the socket (HANG_TIMEOUT_MS); its own end of the hang is no hang-up', async () => {
    const s = await startServer({ storage: 'memory', config: { hangTimeoutMs: 50 } });
    try {
      const bin = await createBin(s.base);
      await request(s.base).put(`/api/bins/${bin.id}/response`).send({ plan: [{ fault: 'timeout' }] }).expect(200);
      const err = await send(bin.url, { body: 'x' }).catch((e) => e);
      expect(err.code).toBe('ECONNRESET');
      await new Promise((r) => setTimeout(r, 100));
      expect((await request(s.base).get(`/api/bins/${bin.id}/requests`).expect(200)).body.requests[0].answer.hungUpAfterMs).toBeUndefined();
    } finally {
      await s.cleanup();
    }
  });

  it('a reset step gives the client a connection error', async () => {
    const bin = await binWith({ plan: [{ fault: 'reset' }] });
    const err = await send(bin.url, { body: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(['ECONNRESET', 'EPIPE']).toContain(err.code ?? (err.message === 'socket hang up' ? 'ECONNRESET' : err.message));
    expect((await send(bin.url, { body: 'x' })).status).toBe(200);
  });

  it('a delay holds the answer at least the set time', async () => {
    const bin = await binWith({ plan: [{ status: 200, delayMs: 300 }] });
    const t = performance.now();
    const r = await send(bin.url, { body: 'x' });
    expect(r.status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(295);
  });

  it('50 parallel requests consume the plan exactly once each', async () => {
    const bin = await binWith({ plan: [{ status: 500, times: 20 }, { status: 503, times: 20 }, { status: 201, times: 5 }] });
    const results = await Promise.all(Array.from({ length: 50 }, () => send(bin.url, { body: 'x' })));
    const count = (s: number) => results.filter((r) => r.status === s).length;
    expect([count(500), count(503), count(201), count(200)]).toEqual([20, 20, 5, 5]);
    const view = (await request(srv.base).get(`/api/bins/${bin.id}/response`).expect(200)).body as ResponseControlView;
    expect(view.position).toMatchObject({ exhausted: true, consumed: 45 });
  });

  it('every capture records what it was answered and by which step', async () => {
    const bin = await binWith({ plan: [{ status: 500 }, { status: 503, probability: 1 }] });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await send(bin.url, { body: 'x' })).headers['x-hooklab-request-id'] as string);
    const answers = await Promise.all(ids.map(async (id) => ((await request(srv.base).get(`/api/bins/${bin.id}/requests/${id}`)).body as RequestDetail).answer));
    expect(answers[0]).toMatchObject({ status: 500, source: 'step', index: 0 });
    expect(answers[1]).toMatchObject({ status: 503, source: 'step', index: 1, roll: { p: 1, hit: true } });
    expect(answers[2]).toMatchObject({ status: 200, source: 'default', index: null });
  });

  it('matching: only POSTs under /hooks use the plan', async () => {
    const bin = await binWith({ plan: [{ status: 500, match: { method: 'POST', pathPrefix: '/hooks' } }] });
    expect((await send(bin.url + '/hooks', { method: 'GET' })).status).toBe(200);
    expect((await send(bin.url + '/other', { body: 'x' })).status).toBe(200);
    expect((await send(bin.url + '/hooks/a', { body: 'x' })).status).toBe(500);
    expect((await send(bin.url + '/hooks/a', { body: 'x' })).status).toBe(200);
  });

  it('position is visible and reset starts the plan over', async () => {
    const bin = await binWith({ plan: [{ status: 500, times: 2 }, { status: 503 }] });
    await send(bin.url, { body: 'x' });
    await send(bin.url, { body: 'x' });
    await send(bin.url, { body: 'x' });
    let view = (await request(srv.base).get(`/api/bins/${bin.id}/response`).expect(200)).body as ResponseControlView;
    expect(view.position).toEqual({ step: 2, usedInStep: 0, exhausted: true, consumed: 3 });
    view = (await request(srv.base).post(`/api/bins/${bin.id}/response/reset`).expect(200)).body;
    expect(view.position).toEqual({ step: 0, usedInStep: 0, exhausted: false, consumed: 0 });
    expect((await send(bin.url, { body: 'x' })).status).toBe(500);
    // A PUT starts it over too, even with the same settings (README: a preset applied again is a fresh start).
    await send(bin.url, { body: 'x' });
    view = (await request(srv.base).put(`/api/bins/${bin.id}/response`).send(view.config).expect(200)).body;
    expect(view.position).toEqual({ step: 0, usedInStep: 0, exhausted: false, consumed: 0 });
  });

  it('invalid input gets a 400 naming the field, and the old settings stay', async () => {
    const bin = await binWith({ plan: [{ status: 500 }] });
    const before = (await request(srv.base).get(`/api/bins/${bin.id}/response`)).body;
    for (const [body, field] of [
      [{ default: { status: 999 } }, 'default.status'],
      [{ plan: [{ status: 200, delayMs: -5 }] }, 'plan[0].delayMs'],
      [{ plan: [{ fault: 'meltdown' }] }, 'plan[0].fault'],
    ] as const) {
      const r = await request(srv.base).put(`/api/bins/${bin.id}/response`).send(body).expect(400);
      expect(r.body.error.field).toBe(field);
      expect(r.body.error.message).toContain(field);
    }
    const bad = await request(srv.base).put(`/api/bins/${bin.id}/response`).set('content-type', 'application/json').send('{"plan": [').expect(400);
    expect(bad.body.error.code).toBe('invalid_json');
    expect((await request(srv.base).get(`/api/bins/${bin.id}/response`)).body).toEqual(before);
    expect((await send(bin.url, { body: 'x' })).status).toBe(500);
  });

  it('POST …/response/check: checked as a PUT would be, every bad field listed, nothing saved', async () => {
    const bin = await binWith({ plan: [{ status: 500 }] });
    const before = (await request(srv.base).get(`/api/bins/${bin.id}/response`)).body;
    expect((await request(srv.base).post(`/api/bins/${bin.id}/response/check`).send({ plan: [{ status: 503, times: 2 }] }).expect(200)).body).toEqual({ ok: true });
    const r = await request(srv.base)
      .post(`/api/bins/${bin.id}/response/check`)
      .send({ default: { status: 700, headers: { 'Set-Cookie': 'a=b' } }, plan: [{ status: 200, times: 0 }] })
      .expect(400);
    expect(r.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['default.headers.Set-Cookie', 'default.status', 'plan[0].times']);
    expect((await request(srv.base).get(`/api/bins/${bin.id}/response`)).body).toEqual(before);
    expect((await send(bin.url, { body: 'x' })).status).toBe(500);
    expect((await request(srv.base).post('/api/bins/no-such-bin-000/response/check').send({}).expect(404)).body.error.code).toBe('not_found');
  });

  it('the delay bound is configurable (MAX_DELAY_MS)', async () => {
    const s = await startServer({ storage: 'memory', config: { maxDelayMs: 1000 } });
    try {
      const bin = await createBin(s.base);
      const r = await request(s.base).put(`/api/bins/${bin.id}/response`).send({ default: { delayMs: 1001 } }).expect(400);
      expect(r.body.error.message).toContain('from 0 to 1000');
      // The check obeys the same bound.
      expect((await request(s.base).post(`/api/bins/${bin.id}/response/check`).send({ default: { delayMs: 1001 } }).expect(400)).body.error.message).toContain('from 0 to 1000');
    } finally {
      await s.cleanup();
    }
  });
});

describe('fixtures', () => {
  it('every plan scenario in fixtures/plans is accepted as-is and behaves as its name says', async () => {
    const dir = path.resolve(import.meta.dirname, '../../fixtures/plans');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const f of files) {
      const scenario = JSON.parse(await readFile(path.join(dir, f), 'utf8'));
      const bin = await createBin(srv.base);
      const r = await request(srv.base).put(`/api/bins/${bin.id}/response`).send(scenario.response);
      expect(r.status, f).toBe(200);
      if (scenario.expect) {
        const got: number[] = [];
        for (let i = 0; i < scenario.expect.length; i++) got.push((await send(bin.url, { body: 'x' })).status);
        expect(got, f).toEqual(scenario.expect);
      }
    }
  });
});
