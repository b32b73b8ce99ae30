// The request list's filter as it lives in the URL, and the live rows it lets in: the same
// answers as the server's search for what a row can tell.
import { describe, expect, it } from 'vitest';
import { matchesItem } from '../../server/capture/filter.ts';
import { describeFilter, filterFromSearch, filterSearch, isEmptyFilter, matchesRow, needsServer, shortKey } from '../../client/src/lib/request-filter.ts';
import { replaceRequests } from '../../client/src/lib/request-list.ts';
import type { RequestItem } from '../../shared/api.ts';

const row = (over: Partial<RequestItem>): RequestItem =>
  ({ id: '01', binId: 'b', method: 'POST', path: '/hooks/github', queryString: '', status: 200, answer: { status: 200 } as RequestItem['answer'], ...over }) as RequestItem;

describe('the filter in the URL', () => {
  it('round-trips, drops blanks, and keeps a stable order', () => {
    const f = filterFromSearch(new URLSearchParams('q=needle&status=5xx&junk=1&method=&header=x-github-event:push'));
    expect(f).toEqual({ status: '5xx', header: 'x-github-event:push', q: 'needle' });
    expect(filterSearch(f)).toBe('?status=5xx&header=x-github-event%3Apush&q=needle');
    expect(filterFromSearch(new URLSearchParams(filterSearch(f)))).toEqual(f);
    expect(filterSearch({})).toBe('');
    expect(isEmptyFilter({ q: '  ' })).toBe(true);
    expect(describeFilter({ method: 'post', path: '/hooks', q: 'x' })).toBe('POST, path /hooks*, body contains “x”');
  });

  it('carries an idempotency key', () => {
    const f = filterFromSearch(new URLSearchParams('key=msg_2Lq4%2Bx&q=a'));
    expect(f).toEqual({ key: 'msg_2Lq4+x', q: 'a' });
    expect(filterSearch(f)).toBe('?key=msg_2Lq4%2Bx&q=a');
    expect(isEmptyFilter({ key: 'msg_1' })).toBe(false);
    expect(needsServer({ key: 'msg_1' })).toBe(false);
    expect(describeFilter({ key: 'msg_1' })).toBe('idempotency key msg_1');
  });

  it('shortens a long key for a row, keeping its start and end', () => {
    expect(shortKey('evt_1')).toBe('evt_1');
    expect(shortKey('msg_2Lq4HbXyZ0123456789abcd')).toBe('msg_2Lq4HbX…abcd');
    expect(shortKey('msg_2Lq4HbXyZ0123456789abcd')).toHaveLength(16);
  });
});

describe('matchesRow', () => {
  // Its sender hung up before the delayed 200 went: it got no status.
  const hungUp = row({ answer: { status: 200, delayMs: 5000, hungUpAfterMs: 1000 } as RequestItem['answer'] });
  const rows = [row({}), row({ method: 'GET', path: '/health' }), row({ status: 503 }), row({ status: null }), row({ path: '/hooks' }), row({ idempotencyKey: 'msg_1' }), row({ idempotencyKey: 'msg_10', status: 503 }), hungUp];
  const filters = [{ method: 'post' }, { path: '/hooks/' }, { status: '5xx' }, { status: '503' }, { status: '200', method: 'GET' }, { key: 'msg_1' }, { key: 'msg_10', status: '5xx' }, { key: 'MSG_1' }, {}];
  it('agrees with the server for every row and filter a row can decide', () => {
    for (const f of filters) for (const r of rows) expect(matchesRow(f, r), JSON.stringify([f, r.method, r.path, r.status, r.idempotencyKey])).toBe(matchesItem(f, r));
  });
  it('a status filter matches what the sender got: not a delayed answer it hung up before', () => {
    expect(matchesRow({ status: '200' }, hungUp)).toBe(false);
    expect(matchesRow({ status: '2xx' }, hungUp)).toBe(false);
    expect(matchesRow({ method: 'POST' }, hungUp)).toBe(true);
    expect(matchesRow({ status: '2XX' }, row({}))).toBe(true);
  });
  it('leaves headers and body text to the server', () => {
    expect(needsServer({ q: 'x' })).toBe(true);
    expect(needsServer({ header: 'x-a' })).toBe(true);
    expect(needsServer({ method: 'GET', status: '2xx' })).toBe(false);
  });
});

describe('replaceRequests', () => {
  it('swaps changed rows in place, and answers the same list when none is there', () => {
    const list = [row({ id: '03' }), row({ id: '02' }), row({ id: '01' })];
    const changed = row({ id: '02', status: 500 });
    const next = replaceRequests(list, new Map([['02', changed]]));
    expect(next.map((r) => r.id)).toEqual(['03', '02', '01']);
    expect(next[1]).toBe(changed);
    expect(list[1].status).toBe(200);
    expect(replaceRequests(list, new Map([['09', changed]]))).toBe(list);
  });
});
