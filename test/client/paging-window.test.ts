// The window of a very long multipart list: which parts stay drawn as "Show more" goes on.
import { describe, expect, it } from 'vitest';
import { CHUNK, KEEP, chunkRanges, windowStart } from '../../client/src/lib/paging.ts';

describe('windowStart', () => {
  it('keeps everything up to KEEP + a chunk, then the last KEEP or so from a chunk start', () => {
    expect(windowStart(200)).toBe(0);
    expect(windowStart(KEEP)).toBe(0);
    expect(windowStart(KEEP + CHUNK - 1)).toBe(0);
    expect(windowStart(KEEP + CHUNK)).toBe(CHUNK);
    expect(windowStart(17_138)).toBe(15_000);
    for (let shown = 0; shown <= 20_000; shown += 137) {
      const from = windowStart(shown);
      expect(from % CHUNK).toBe(0);
      expect(shown - from).toBeLessThan(KEEP + CHUNK);
      expect(shown - from).toBeGreaterThanOrEqual(Math.min(shown, KEEP));
    }
  });

  it('chunks a window from its start', () => {
    expect(chunkRanges(17_138, 17_138, 200, 16_800)).toEqual([
      [16_800, 17_000],
      [17_000, 17_138],
    ]);
    expect(chunkRanges(450, 1000)).toEqual([
      [0, 200],
      [200, 400],
      [400, 450],
    ]);
  });
});
