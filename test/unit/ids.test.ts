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

  it('given the newest stored id, sorts after it whatever the clock says (a restart after the clock stepped back)', () => {
    const stored = sortableIdFactory(() => 1_700_000_000_000)();
    const earlier = sortableIdFactory(() => 1_699_999_000_000, '', stored);
    const ids = [earlier(), earlier(), earlier()];
    for (const id of ids) expect(id > stored, id).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    // Once the clock passes it, its own time again.
    const later = sortableIdFactory(() => 1_700_000_000_005, '', stored);
    expect(later().slice(0, 13)).toBe((1_700_000_000_005).toString(36).padStart(9, '0') + '0000');
    // With a prefix (delivery ids), and an id of another form ignored.
    const dl = sortableIdFactory(() => 5, 'dl_', 'dl_' + stored);
    expect(dl() > 'dl_' + stored).toBe(true);
    expect(sortableIdFactory(() => 5, '', 'not-an-id')().slice(0, 9)).toBe('000000005');
  });
});

describe('sortable ids from two processes in the same millisecond', () => {
  it('keep their format (19 of [0-9a-z]) and differ by their random tail, which uses all 32 of its characters', () => {
    const t = 1_700_000_000_000;
    const a = sortableIdFactory(() => t);
    const b = sortableIdFactory(() => t);
    const ids: string[] = [];
    // More than one 16 KiB draw of random bytes (6 bytes per id: 24,000 bytes).
    for (let i = 0; i < 2_000; i++) ids.push(a(), b());
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{19}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // Same ms and counter in both factories: only the tail tells them apart.
    expect(ids[0].slice(0, 13)).toBe(ids[1].slice(0, 13));
    const tails = new Set(ids.flatMap((id) => [...id.slice(13)]));
    expect([...tails].sort().join('')).toBe('0123456789abcdefghijklmnopqrstuv');
    // Still in creation order within a factory.
    const fromA = ids.filter((_, i) => i % 2 === 0);
    expect([...fromA].sort()).toEqual(fromA);
  });
});
