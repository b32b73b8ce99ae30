// DISPATCH_IN_PROCESS: the dispatcher's attempts to hooklab's own receivers reach its HTTP
// server through an in-process link rather than a loopback TCP connection, and the capture
// they make is the one TCP would have made. Real app, real HTTP server, real store.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestPage, TestResult } from '../../shared/api.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/until.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.cleanup();
});

/** A test event to one of the server's own bins: the attempt, its capture, and how it came in. */
async function testEventToOwnBin(inProcess: boolean) {
  const srv = await startServer({ config: { dispatchInProcess: inProcess } });
  servers.push(srv);
  const arrivals: boolean[] = [];
  srv.app.server.prependListener('request', (req) => {
    if (req.url?.startsWith('/h/')) arrivals.push(req.socket instanceof net.Socket);
  });
  const bin = await createBin(srv.base);
  const hook = (await json<{ id: string }>(srv.base, 'POST', '/api/webhooks', { url: `${bin.url}/in?x=1`, events: ['flow_started'], secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })).body;
  const result = (await json<TestResult>(srv.base, 'POST', `/api/webhooks/${hook.id}/test`)).body;
  const page = (await json<RequestPage>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body;
  const detail = (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${bin.id}/requests/${page.requests[0].id}`)).body;
  return { srv, arrivals, result, page, detail };
}

describe('dispatcher attempts to our own receivers (DISPATCH_IN_PROCESS)', () => {
  it('go in-process by default, and capture what a TCP attempt captures', async () => {
    const linked = await testEventToOwnBin(true);
    const tcp = await testEventToOwnBin(false);
    expect(linked.arrivals).toEqual([false]);
    expect(tcp.arrivals).toEqual([true]);
    for (const x of [linked, tcp]) {
      expect(x.result).toMatchObject({ status: 200, ok: true, error: null });
      expect(x.page.requests).toHaveLength(1);
      expect(x.result.delivery.attempts[0].capturedRequestId).toBe(x.detail.id);
      expect(x.detail).toMatchObject({ method: 'POST', path: '/in', queryString: 'x=1', ip: '127.0.0.1' });
    }
    // The same header names in the same order; values (and the body's length) differ only
    // where they carry ids, times and the port.
    expect(linked.detail.headers.map(([n]) => n)).toEqual(tcp.detail.headers.map(([n]) => n));
    expect(linked.detail.contentType).toBe(tcp.detail.contentType);
    expect(linked.detail.verification ?? null).toEqual(tcp.detail.verification ?? null);
  });

  it('a timeout is a hang-up on the capture, as over TCP: a slow answer and a hang both say when the dispatcher gave up', async () => {
    for (const inProcess of [true, false]) {
      const srv = await startServer({ config: { dispatchInProcess: inProcess } });
      servers.push(srv);
      const bin = await createBin(srv.base);
      expect((await json(srv.base, 'PUT', `/api/bins/${bin.id}/response`, { plan: [{ status: 200, delayMs: 3000 }, { fault: 'timeout' }] })).status).toBe(200);
      const hook = (await json<{ id: string }>(srv.base, 'POST', '/api/webhooks', { url: bin.url, events: ['flow_started'], timeoutMs: 300 })).body;
      const how = inProcess ? 'in-process' : 'TCP';
      for (const [n, step] of [[1, { status: 200, delayMs: 3000 }], [2, { status: null, fault: 'timeout' }]] as const) {
        const result = (await json<TestResult>(srv.base, 'POST', `/api/webhooks/${hook.id}/test`)).body;
        expect(result, how).toMatchObject({ status: null, error: 'timeout' });
        const answerOf = async () => (await json<RequestPage>(srv.base, 'GET', `/api/bins/${bin.id}/requests`)).body.requests.at(-n)!.answer;
        await until(async () => (await answerOf()).hungUpAfterMs !== undefined, `${how}, step ${n}: the hang-up recorded`);
        const a = await answerOf();
        expect(a, how).toMatchObject(step);
        // The dispatcher's 300 ms (the whole attempt's bound), well before the slow answer.
        expect(a.hungUpAfterMs, how).toBeGreaterThanOrEqual(200);
        expect(a.hungUpAfterMs, how).toBeLessThan(3000);
      }
    }
  });
});
