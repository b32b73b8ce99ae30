// The NDJSON import's line splitter: whole lines across chunk edges, never more than the cap held.
import { describe, expect, it } from 'vitest';
import { boundedLines, LineTooLongError } from '../../server/lib/bounded-lines.ts';

/** The chunks, counting how many were read. */
function source(chunks: (string | Buffer)[]) {
  const read = { n: 0 };
  async function* gen() {
    for (const c of chunks) {
      read.n++;
      yield Buffer.isBuffer(c) ? c : Buffer.from(c);
    }
  }
  return { input: gen(), read };
}

async function all(chunks: (string | Buffer)[], max = 100) {
  const out: [number, string][] = [];
  for await (const l of boundedLines(source(chunks).input, max)) out.push([l.lineNo, l.text]);
  return out;
}

describe('boundedLines', () => {
  it('splits at LF across chunk edges, drops a CR before it, numbers blank lines, keeps a last line without LF', async () => {
    expect(await all(['a\r', '\nb', 'c\n\n', 'd'])).toEqual([
      [1, 'a'],
      [2, 'bc'],
      [3, ''],
      [4, 'd'],
    ]);
    expect(await all(['x\n'])).toEqual([[1, 'x']]);
  });

  it('drops a UTF-8 byte order mark that starts the text (also split between chunks), and only there', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(await all([Buffer.concat([bom, Buffer.from('{"a":1}\n')]), Buffer.concat([bom, Buffer.from('x')])])).toEqual([
      [1, '{"a":1}'],
      [2, '\ufeffx'],
    ]);
    expect(await all([bom.subarray(0, 2), Buffer.concat([bom.subarray(2), Buffer.from('y\r\n')])])).toEqual([[1, 'y']]);
    expect(await all([bom])).toEqual([[1, '']]);
  });

  it('decodes a UTF-8 character split between chunks', async () => {
    const e = Buffer.from('é€\n');
    expect(await all([e.subarray(0, 1), e.subarray(1, 3), e.subarray(3)])).toEqual([[1, 'é€']]);
  });

  it('a line of exactly the cap passes; one byte more throws at once, naming the line, with the rest unread', async () => {
    expect(await all(['1234', '5\n'], 5)).toEqual([[1, '12345']]);
    const { input, read } = source(['ok\n', '123', '456', 'never read', 'nor this']);
    const got: string[] = [];
    const err = await (async () => {
      for await (const l of boundedLines(input, 5)) got.push(l.text);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LineTooLongError);
    expect(err).toMatchObject({ lineNo: 2, maxBytes: 5 });
    expect(got).toEqual(['ok']);
    expect(read.n).toBe(3);
  });
});
