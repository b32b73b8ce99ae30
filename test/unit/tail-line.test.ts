// hooklab tail's lines: a capture whose sender hung up before its answer went says so in its
// own line when that is known as it is printed (a reconnect's backfill, say).
import { describe, expect, it } from 'vitest';
import type { RequestItem } from '../../shared/api.ts';
import { hungUpLine, line } from '../../server/cli/commands/tail.ts';

const item = (answer: Partial<RequestItem['answer']>, status: number | null): RequestItem =>
  ({
    id: '01',
    binId: 'b',
    method: 'POST',
    path: '/hooks',
    queryString: 'a=1',
    receivedAt: '2026-12-04T10:11:12.000Z',
    status,
    size: 12,
    contentType: 'application/json',
    answer: { status, delayMs: 0, fault: null, source: 'step', index: 0, roll: null, ...answer },
  }) as unknown as RequestItem;

const rest = (s: string) => s.replace(/^\S+ {2}/, '');

describe('tail lines', () => {
  it('an answer sent: its status', () => {
    expect(rest(line(item({}, 200)))).toBe('POST   /hooks?a=1  200  12 B  application/json');
  });
  it('a slow answer the sender did not wait for: not sent, and when it hung up', () => {
    const r = item({ delayMs: 30_000, hungUpAfterMs: 10_012 }, 200);
    expect(rest(line(r))).toBe('POST   /hooks?a=1  200 not sent (the sender hung up after 10.0 s)  12 B  application/json');
    expect(rest(hungUpLine(r))).toBe('POST   /hooks?a=1  the sender hung up after 10.0 s: it never got the 200');
  });
  it('an answer pipelined behind a reset: not sent, hooklab closed the connection (not the sender)', () => {
    const r = item({ hungUpAfterMs: 1_020, closedByFault: 'reset' }, 503);
    expect(rest(line(r))).toBe("POST   /hooks?a=1  503 not sent (hooklab closed the connection for an earlier request's reset on it)  12 B  application/json");
    expect(rest(hungUpLine(r))).toBe("POST   /hooks?a=1  hooklab closed the connection for an earlier request's reset on it after 1.0 s: the sender never got the 503");
  });
  it('a hang: the sender gave up', () => {
    const r = item({ fault: 'timeout', hungUpAfterMs: 450 }, null);
    expect(rest(line(r))).toBe('POST   /hooks?a=1  timeout (the sender gave up after 450 ms)  12 B  application/json');
    expect(rest(hungUpLine(r))).toBe('POST   /hooks?a=1  the sender gave up after 450 ms (this answer never comes)');
  });
});
