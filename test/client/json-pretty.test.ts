// The big-body JSON formatter: the same text as the token-based pretty view (literals as
// written), in blocks of whole lines, a slice at a time; where JSON.parse says it stopped.
import { describe, expect, it } from 'vitest';
import { jsonView } from '../../client/src/lib/body-views.ts';
import { parseErrorOffset, prettyJsonBlocks, textBlocks } from '../../client/src/lib/json-pretty.ts';

const pretty = (text: string) => {
  const v = jsonView(text);
  if (!v.ok) throw new Error(v.error.message);
  return v.pretty;
};

describe('prettyJsonBlocks', () => {
  it('formats exactly as the pretty view does, literals as written', () => {
    for (const text of [
      '{"amount": 12.50, "id": 12345678901234567890, "items": [{"sku": "a"}], "e": { }, "a": [ ], "s": "q\\"uote\\\\", "u": "\\u00e9"}',
      '[1, -2.5e10, true, false, null, "x"]',
      '  "just a string"  ',
      '\ufeff{"bom": 1}',
      '{"nested": {"deep": {"deeper": [[[]], {}]}}}',
    ]) {
      const job = prettyJsonBlocks(text);
      expect(job.step(1000)).toBe(true);
      expect(job.blocks.join('')).toBe(pretty(text));
    }
  });

  it('works a slice at a time, in blocks of whole lines', () => {
    const text = JSON.stringify({ items: Array.from({ length: 4000 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] })) });
    let clock = 0;
    const job = prettyJsonBlocks(text);
    let slices = 0;
    // A fake clock that moves 1 ms per look: each slice stops after its budget.
    while (!job.step(5, () => clock++)) slices++;
    expect(slices).toBeGreaterThan(3);
    expect(job.done).toBe(true);
    expect(job.blocks.length).toBeGreaterThan(1);
    for (const b of job.blocks.slice(0, -1)) expect(b.endsWith('\n')).toBe(true);
    expect(job.blocks.join('')).toBe(pretty(text));
  });
});

describe('parseErrorOffset', () => {
  it('reads a position or a line and column from JSON.parse’s message', () => {
    expect(parseErrorOffset('Unexpected token ] in JSON at position 12', '')).toBe(12);
    const text = '{\n  "a": 1,\n  "b": [1,]\n}';
    expect(parseErrorOffset('Unexpected token \']\', ..."b": [1,]\n}" is not valid JSON (line 3 column 11)', text)).toBe(text.indexOf(']'));
    expect(parseErrorOffset('something else', text)).toBeNull();
  });
  it('agrees with this engine’s own messages', () => {
    const text = '{"a": [1, 2,]}';
    let message = '';
    try {
      JSON.parse(text);
    } catch (e) {
      message = (e as Error).message;
    }
    const at = parseErrorOffset(message, text);
    if (at !== null) expect(text[at]).toBe(']');
  });
});

describe('textBlocks', () => {
  it('cuts at line breaks, and inside a line only when it is longer than a block', () => {
    const text = 'aaaa\nbbbb\ncccc\n';
    expect(textBlocks(text, 6)).toEqual(['aaaa\n', 'bbbb\n', 'cccc\n']);
    expect(textBlocks('x'.repeat(10), 4)).toEqual(['xxxx', 'xxxx', 'xx']);
    expect(textBlocks(text, 6).join('')).toBe(text);
  });
});

describe('nested past the limits', () => {
  const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);

  it('stops at 500 levels as the small-body view does, without formatting the rest (50,001 deep crashed the tab)', () => {
    for (const text of [nested(50_001), `{"pad":"${'x'.repeat(90_000)}","n":${nested(8000)}}`, nested(502)]) {
      const job = prettyJsonBlocks(text);
      expect(job.step(10_000)).toBe(true);
      expect(job.blocks).toEqual([]);
      expect(job.tooDeep?.message).toBe('Nested more than 500 levels deep');
      const small = jsonView(text);
      expect(small.ok).toBe(false);
      if (!small.ok) {
        expect(small.error.message).toBe(job.tooDeep?.message);
        expect(small.error.offset).toBe(job.tooDeep?.offset);
        expect(small.error.tooDeep).toBe(true);
      }
    }
    // 500 levels (the innermost one empty) are formatted by both.
    const job = prettyJsonBlocks(nested(501));
    job.step(10_000);
    expect(job.tooDeep).toBeNull();
    expect(job.blocks.join('')).toBe(pretty(nested(501)));
  });

  it('stops where the indentation alone would run to millions of characters (1 MiB 499 deep made 500 million)', () => {
    const text = '['.repeat(499) + '0,'.repeat(500_000) + '0' + ']'.repeat(499);
    const job = prettyJsonBlocks(text);
    expect(job.step(60_000)).toBe(true);
    expect(job.blocks).toEqual([]);
    expect(job.tooDeep?.message).toBe(`Indenting it would take more than ${(16 * text.length).toLocaleString('en-US')} characters`);
    // The same body at 100 KB, on the small-body path.
    const small = jsonView('['.repeat(499) + '0,'.repeat(49_000) + '0' + ']'.repeat(499));
    expect(!small.ok && small.error.tooDeep).toBe(true);
    // An ordinary deep-ish body is formatted.
    const ok = JSON.stringify({ a: { b: { c: { d: Array.from({ length: 20_000 }, (_, i) => ({ i, tags: ['x'] })) } } } });
    const j2 = prettyJsonBlocks(ok);
    j2.step(60_000);
    expect(j2.tooDeep).toBeNull();
    expect(j2.blocks.join('')).toBe(pretty(ok));
  });
});
