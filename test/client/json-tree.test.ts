// The JSON tree's model: how deep a value nests, found without recursion.
import { describe, expect, it } from 'vitest';
import { RawNumber, nestsDeeperThan } from '../../client/src/lib/json-tree.ts';

describe('nestsDeeperThan', () => {
  it('counts levels as the pretty view does, the root at 0', () => {
    expect(nestsDeeperThan(1, 0)).toBe(false);
    expect(nestsDeeperThan([], 0)).toBe(false);
    expect(nestsDeeperThan([1], 0)).toBe(true);
    expect(nestsDeeperThan({ a: [1] }, 1)).toBe(true);
    expect(nestsDeeperThan({ a: [1] }, 2)).toBe(false);
    expect(nestsDeeperThan({ a: new RawNumber('1.50') }, 1)).toBe(false);
    expect(nestsDeeperThan([null, { b: 'x' }], 2)).toBe(false);
  });

  it('walks 50,000 levels without overflowing the stack', () => {
    const v = JSON.parse('['.repeat(50_000) + ']'.repeat(50_000));
    expect(nestsDeeperThan(v, 100)).toBe(true);
    expect(nestsDeeperThan(v, 50_000)).toBe(false);
  });
});
