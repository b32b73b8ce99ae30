// Identifier minting: bin ids are unguessable and safe to type as a command-line argument.
import { describe, expect, it } from 'vitest';
import { newBinId, sortableIdFactory } from '../../server/ids.ts';

describe('newBinId', () => {
  it('is 21 URL-safe characters, never starting with "-" (a shell argument would read it as an option) or "_"', () => {
    const ids = Array.from({ length: 20_000 }, newBinId);
    for (const id of ids) expect(id).toMatch(/^[0-9A-Za-z][0-9A-Za-z_-]{20}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // The rest still uses the whole alphabet (the entropy stays ~126 bits).
    const tails = ids.join('');
    expect(tails).toContain('-');
    expect(tails).toContain('_');
  });
});

describe('sortableIdFactory', () => {
  it('sorts in creation order, also when the clock steps back', () => {
    let t = 1_000;
    const next = sortableIdFactory(() => t);
    const a = next();
    t = 500;
    const b = next();
    t = 2_000;
    const c = next();
    expect([c, a, b].sort()).toEqual([a, b, c]);
  });
});
