// "New key on retry" compares whole bodies only. A body MAX_BODY_BYTES cut is only its first
// bytes: two different events sharing them hashed alike, and their two keys were flagged as a
// sender changing keys on retries. A cut capture keeps its key and attempt count, out of the
// body comparison (a prefix cannot prove two bodies the same).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../shared/api.ts';
import { send } from '../helpers/http.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/until.ts';

const MAX = 2000;
let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ config: { maxBodyBytes: MAX } });
});
afterAll(() => srv.cleanup());

const idOf = (r: { headers: Record<string, unknown> }) => r.headers['x-hooklab-request-id'] as string;
const detail = async (binId: string, id: string) => (await json<RequestDetail>(srv.base, 'GET', `/api/bins/${binId}/requests/${id}`)).body;
interface KeyGroups {
  groups: { key: string; ids: string[] }[];
  keyChurn: { ids: string[]; keys: string[] }[];
}

describe('key churn and bodies cut at MAX_BODY_BYTES', () => {
  it('two events sharing their first MAX_BODY_BYTES under two keys are not "new key on retry"; whole bodies still are', async () => {
    const bin = await createBin(srv.base);
    const prefix = `{"pad":"${'p'.repeat(2100)}","id":`;
    const e1 = idOf(await send(bin.url, { headers: { 'webhook-id': 'evt-1' }, body: `${prefix}1}` }));
    const e2 = idOf(await send(bin.url, { headers: { 'webhook-id': 'evt-2' }, body: `${prefix}2}` }));
    const e1again = idOf(await send(bin.url, { headers: { 'webhook-id': 'evt-1' }, body: `${prefix}1}` }));
    // The same whole small body under two keys: a sender changing keys.
    const a = idOf(await send(bin.url, { headers: { 'webhook-id': 'k-a' }, body: '{"n":1}' }));
    const b = idOf(await send(bin.url, { headers: { 'webhook-id': 'k-b' }, body: '{"n":1}' }));

    await until(async () => (await detail(bin.id, b)).idempotency !== undefined, 'keys read');
    const cut = await detail(bin.id, e2);
    expect(cut.truncated).toBe(true);
    expect(cut.idempotency).toEqual({ key: 'evt-2', attempt: 1, attempts: 1, keyChurn: false });
    expect((await detail(bin.id, e1again)).idempotency).toEqual({ key: 'evt-1', attempt: 2, attempts: 2, keyChurn: false });
    expect((await detail(bin.id, b)).idempotency).toMatchObject({ key: 'k-b', keyChurn: true });

    const g = (await json<KeyGroups>(srv.base, 'GET', `/api/bins/${bin.id}/idempotency`)).body;
    expect(g.groups.map((x) => [x.key, x.ids])).toEqual([
      ['evt-1', [e1, e1again]],
      ['evt-2', [e2]],
      ['k-a', [a]],
      ['k-b', [b]],
    ]);
    expect(g.keyChurn).toEqual([expect.objectContaining({ ids: [a, b], keys: ['k-a', 'k-b'] })]);
  });
});
