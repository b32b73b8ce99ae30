// A filter as a person types it or a link carries it: a sub-path without its leading slash is
// searched from it, a status class in any case; a first page the server refuses for its
// filter is the filter's error (the bin page still loads), anything else is not.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../client/src/lib/api.ts';
import { filterFromSearch, normalizeFilter } from '../../client/src/lib/request-filter.ts';
import { filterRefusal } from '../../client/src/lib/use-bin-requests.ts';

describe('normalizeFilter', () => {
  it('adds the leading slash a capture path always has', () => {
    expect(normalizeFilter({ path: 'orders' })).toEqual({ path: '/orders' });
    expect(normalizeFilter({ path: '/orders' })).toEqual({ path: '/orders' });
    expect(filterFromSearch(new URLSearchParams('path=orders/1&q=x'))).toEqual({ path: '/orders/1', q: 'x' });
  });
  it('reads a status class in any case, and leaves what it cannot read for the server to refuse', () => {
    expect(normalizeFilter({ status: '5XX' })).toEqual({ status: '5xx' });
    expect(filterFromSearch(new URLSearchParams('status=2Xx'))).toEqual({ status: '2xx' });
    expect(normalizeFilter({ status: 'abc' })).toEqual({ status: 'abc' });
  });
  it('a method typed in any case is searched in capitals (any method: the field is typed, not picked)', () => {
    expect(normalizeFilter({ method: ' purge ' })).toEqual({ method: 'PURGE' });
    expect(filterFromSearch(new URLSearchParams('method=post'))).toEqual({ method: 'POST' });
  });
});

describe('filterRefusal', () => {
  it('a 400 under a filter is the filter’s error, at the field the server names', () => {
    const err = new ApiError(400, 'invalid_field', 'status: must be a status such as 500, or a class such as 5xx', 'status', [
      { field: 'status', message: 'must be a status such as 500, or a class such as 5xx' },
    ]);
    expect(filterRefusal(true, err)).toEqual({ field: 'status', message: 'must be a status such as 500, or a class such as 5xx' });
  });
  it('anything else (no filter, offline, a 500) is not', () => {
    expect(filterRefusal(false, new ApiError(400, 'invalid_field', 'x', 'status'))).toBeNull();
    expect(filterRefusal(true, new ApiError(0, 'network', 'Cannot reach the hooklab server. Is it running?'))).toBeNull();
    expect(filterRefusal(true, new ApiError(500, 'internal', 'boom'))).toBeNull();
  });
});
