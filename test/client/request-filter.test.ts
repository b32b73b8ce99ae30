// The request list's filter as it lives in the URL, and the live rows it lets in: the same
// answers as the server's search for what a row can tell.
import { describe, expect, it } from 'vitest';
import { matchesItem } from '../../server/capture/filter.ts';
import { describeFilter, filterFromSearch, filterSearch, isEmptyFilter, matchesRow, needsServer } from '../../client/src/lib/request-filter.ts';
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
});

describe('matchesRow', () => {
  const rows = [row({}), row({ method: 'GET', path: '/health' }), row({ status: 503 }), row({ status: null }), row({ path: '/hooks' })];
  const filters = [{ method: 'post' }, { path: '/hooks/' }, { status: '5xx' }, { status: '503' }, { status: '200', method: 'GET' }, {}];
  it('agrees with the server for every row and filter a row can decide', () => {
    for (const f of filters) for (const r of rows) expect(matchesRow(f, r), JSON.stringify([f, r.method, r.path, r.status])).toBe(matchesItem(f, r));
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
