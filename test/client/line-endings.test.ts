// Edit & replay of a text body: the textarea shows every line break as LF; what is sent keeps
// the capture's own line endings (CRLF bodies stay CRLF, multipart too), and an unchanged body
// is sent as captured.
import { describe, expect, it } from 'vitest';
import { asTextarea, lineEndings, mainEnding, textBodyEdit } from '../../client/src/lib/line-endings.ts';

describe('textBodyEdit', () => {
  it('unchanged (as the textarea shows it): nothing to send, the capture goes byte for byte', () => {
    for (const c of ['line1\r\nline2\r\n', 'a\nb', 'a\rb\r\nc\n', '', 'no breaks']) expect(textBodyEdit(asTextarea(c), c), JSON.stringify(c)).toBeNull();
  });

  it('a body all CRLF stays CRLF, new line breaks too', () => {
    expect(textBodyEdit('line1\nline2\nX', 'line1\r\nline2\r\n')).toBe('line1\r\nline2\r\nX');
    expect(textBodyEdit('line1\nnew\nline2\n', 'line1\r\nline2\r\n')).toBe('line1\r\nnew\r\nline2\r\n');
    expect(textBodyEdit('', 'a\r\n')).toBe('');
  });

  it('a body all LF, or with no line break, is sent as typed', () => {
    expect(textBodyEdit('a\nb\nc', 'a\nb')).toBe('a\nb\nc');
    expect(textBodyEdit('{"a":1}\n', '{"a":2}')).toBe('{"a":1}\n');
  });

  it('a multipart body edited inside one part keeps every CRLF', () => {
    const mp = '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nhello\r\n--b--\r\n';
    const edited = asTextarea(mp).replace('hello', 'hello world\nline two');
    expect(textBodyEdit(edited, mp)).toBe('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nhello world\r\nline two\r\n--b--\r\n');
  });

  it('mixed endings: text left as it is keeps its own; line breaks in the edited stretch get the main ending', () => {
    const c = 'h1\r\nh2\r\n\r\nbody\nmore\n';
    expect(mainEnding(c)).toBe('\r\n');
    // Only "more" changed: every other line break as captured.
    expect(textBodyEdit('h1\nh2\n\nbody\nMORE\n', c)).toBe('h1\r\nh2\r\n\r\nbody\nMORE\n');
    // A line typed in the middle gets CRLF, the ones around it keep theirs.
    expect(textBodyEdit('h1\nh2\n\nbody\nnew\nmore\n', c)).toBe('h1\r\nh2\r\n\r\nbody\nnew\r\nmore\n');
    // A lone CR is kept where it was.
    expect(textBodyEdit('a\nb!', 'a\rb')).toBe('a\rb!');
  });
});

describe('lineEndings / mainEnding', () => {
  it('counts each kind; the main one is the most used, CRLF on a tie, LF with none', () => {
    expect(lineEndings('a\r\nb\nc\rd\r\n')).toEqual({ crlf: 2, lf: 1, cr: 1 });
    expect(mainEnding('a\r\nb\n')).toBe('\r\n');
    expect(mainEnding('a\nb\nc\r\n')).toBe('\n');
    expect(mainEnding('abc')).toBe('\n');
  });
});
