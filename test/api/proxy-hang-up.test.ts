// Proxy mode: a sender that hangs up before the first target answered (its own timeout shorter
// than the target's pace) is recorded as hung up, as with a slow bin (delayMs), and stays so
// once the target's answer is recorded. A real node:http target over loopback, hooklab in-process.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail, RequestItem } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';
import { recordingTarget } from '../helpers/target.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.cleanup());

const detail = async (binId: string, id: string) => (await request(srv.base).get(`/api/bins/${binId}/requests/${id}`).expect(200)).body as RequestDetail;
const proxyRecord = async (binId: string, id: string) => (await detail(binId, id)).forwards.find((f) => f.kind === 'proxy');

async function proxyBin(target: string) {
  const bin = await createBin(srv.base);
  await request(srv.base).put(`/api/bins/${bin.id}/forward`).send({ targets: [{ url: target }], answerWith: 'target' }).expect(200);
  return bin;
}

describe('proxy mode: a sender that hangs up before the target answered', () => {
  it('is recorded as hung up, as with a slow bin, and stays so once the target answers', async () => {
    const t = await recordingTarget((_q, res) => setTimeout(() => res.end('late'), 2500));
    try {
      const bin = await proxyBin(t.base);
      // The sender's own timeout, shorter than the target's pace (curl -m 1).
      const err = await send(bin.url, { body: 'x', timeoutMs: 300 }).catch((e: NodeJS.ErrnoException) => e);
      expect((err as NodeJS.ErrnoException).code).toBe('CLIENT_TIMEOUT');
      const list = async () => (await request(srv.base).get(`/api/bins/${bin.id}/requests`).expect(200)).body.requests as RequestItem[];
      await expect.poll(async () => (await list())[0]?.answer.hungUpAfterMs).toBeGreaterThanOrEqual(0);
      const id = (await list())[0].id;
      // The target's answer, recorded later, keeps the hang-up with the status it would have sent.
      await expect.poll(() => proxyRecord(bin.id, id), { timeout: 10_000 }).toBeDefined();
      const a = (await detail(bin.id, id)).answer;
      expect(a).toMatchObject({ status: 200, source: 'proxy' });
      expect(a.hungUpAfterMs).toBeGreaterThanOrEqual(200);
      // Before the target answered.
      expect(a.hungUpAfterMs).toBeLessThan(2500);
      expect((await list())[0].answer.hungUpAfterMs).toBe(a.hungUpAfterMs);
    } finally {
      t.close();
    }
  });

  it('a sender that waits for the answer is not', async () => {
    const t = await recordingTarget((_q, res) => setTimeout(() => res.end('soon'), 100));
    try {
      const bin = await proxyBin(t.base);
      const r = await send(bin.url, { body: 'x' });
      expect(r.status).toBe(200);
      const id = r.headers['x-hooklab-request-id'] as string;
      await expect.poll(() => proxyRecord(bin.id, id)).toBeDefined();
      expect((await detail(bin.id, id)).answer.hungUpAfterMs).toBeUndefined();
    } finally {
      t.close();
    }
  });
});
