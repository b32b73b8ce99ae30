// Pure parsing behind the request detail's body views.
import { describe, expect, it } from 'vitest';
import {
  availableViews,
  base64ToBytes,
  bodyBytes,
  decodeBody,
  declaredCharset,
  decodeUtf8,
  excerptAround,
  formFields,
  formFieldsJob,
  headerParams,
  hexDump,
  jsonView,
  lineColumn,
  multipartJob,
  parseMultipart,
} from '../../client/src/lib/body-views.ts';
import { chunkRanges, showMore } from '../../client/src/lib/paging.ts';

/** A clock that moves 1 ms each time it is read: every step stops after its first check. */
const ticking = () => {
  let t = 0;
  return () => t++;
};

const enc = (s: string) => new TextEncoder().encode(s);

describe('jsonView', () => {
  it('pretty-prints with 2-space indent and keeps every literal exactly as sent', () => {
    const text = '{"a":2.50,"big":12345678901234567890,"e":1E+2,"s":"x\\u00e9\\n","n":null,"t":true,"arr":[1,[],{}],"o":{"k":"v"}}';
    const v = jsonView(text);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.pretty).toBe(
      [
        '{',
        '  "a": 2.50,',
        '  "big": 12345678901234567890,',
        '  "e": 1E+2,',
        '  "s": "x\\u00e9\\n",',
        '  "n": null,',
        '  "t": true,',
        '  "arr": [',
        '    1,',
        '    [],',
        '    {}',
        '  ],',
        '  "o": {',
        '    "k": "v"',
        '  }',
        '}',
      ].join('\n'),
    );
    expect(v.tokens.filter((t) => t.k === 'key').map((t) => t.s)).toEqual(['"a"', '"big"', '"e"', '"s"', '"n"', '"t"', '"arr"', '"o"', '"k"']);
    // Parsing the pretty text gives the same value as the original (where JS can hold it).
    expect(JSON.parse(v.pretty)).toEqual(JSON.parse(text));
  });

  it('keeps duplicate keys (JSON.parse would drop one)', () => {
    const v = jsonView('{"a":1,"a":2}');
    expect(v.ok && v.pretty).toBe('{\n  "a": 1,\n  "a": 2\n}');
  });

  it('accepts scalars, whitespace and a byte order mark', () => {
    expect(jsonView('  42 \n').ok).toBe(true);
    expect(jsonView('"str"').ok).toBe(true);
    expect(jsonView('\uFEFF{"a":1}').ok).toBe(true);
  });

  it.each([
    ['{\n  "a": 1,\n  "b": [1, 2,]\n}', 3, 14, 'Trailing comma before "]"'],
    ['{"a": 1,}', 1, 9, 'Trailing comma before "}"'],
    ['{"a" 1}', 1, 6, 'Expected ":" after the property name, found "1"'],
    ["{'a': 1}", 1, 2, 'Expected a property name in double quotes, found "\'"'],
    ['{"a": 1 "b": 2}', 1, 9, 'Expected "," or "}" after a property value, found """'],
    ['[1 2]', 1, 4, 'Expected "," or "]" after an array element, found "2"'],
    ['{"a": "unterminated}', 1, 7, 'Unterminated string: missing the closing quote'],
    ['{"a": tru}', 1, 7, 'Unexpected "t": expected a value'],
    ['{"a": 01}', 1, 8, 'Invalid number'],
    ['{"a": "\\x"}', 1, 8, 'Invalid escape "\\x" in a string'],
    ['{"a": "line\nbreak"}', 1, 12, 'Unescaped a line break in a string'],
    ['{"a": 1}}', 1, 9, 'Unexpected "}" after the end of the JSON value'],
    ['', 1, 1, 'Empty body: no JSON value'],
    ['{"a": ', 1, 7, 'Unexpected end of input: a value is missing'],
  ])('reports where %j breaks', (text, line, column, message) => {
    const v = jsonView(text);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.error.message).toBe(message);
    expect({ line: v.error.line, column: v.error.column }).toEqual({ line, column });
    expect(lineColumn(text, v.error.offset)).toEqual({ line, column });
  });

  it('agrees with JSON.parse on what is valid', () => {
    const samples = ['{}', '[]', '[1,2,3]', '{"a":[{"b":null}]}', '-0.5e-3', '"\\ud83d\\ude00"', '[,]', '{,}', '[1,]', 'nul', '.5', '1.', '+1', '--1', '"\t"', '{"a":1', '[1', 'true false'];
    for (const s of samples) {
      let valid = true;
      try {
        JSON.parse(s);
      } catch {
        valid = false;
      }
      expect(jsonView(s).ok, s).toBe(valid);
    }
  });

  it('reports absurd nesting instead of overflowing the stack', () => {
    const v = jsonView('['.repeat(5000) + ']'.repeat(5000));
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.error.message).toMatch(/Nested more than/);
  });
});

describe('excerptAround', () => {
  it('shows the line of the error with the bad character separated', () => {
    const text = '{\n  "a": 1,\n  "b": [1, 2,]\n}';
    const v = jsonView(text);
    if (v.ok) throw new Error('expected an error');
    const ex = excerptAround(text, v.error.offset);
    expect(ex.at).toBe(']');
    expect(ex.before.endsWith('"b": [1, 2,')).toBe(true);
  });
  it('cuts long single-line bodies around the offset', () => {
    const text = 'x'.repeat(1000) + '!' + 'y'.repeat(1000);
    const ex = excerptAround(text, 1000, 20);
    expect(ex).toEqual({ before: 'x'.repeat(20), at: '!', after: 'y'.repeat(19), cutStart: true, cutEnd: true });
  });
});

describe('formFields', () => {
  it('decodes fields in order with repeats', () => {
    expect(formFields('a=1&b=hello+world&c=%E2%9C%93&a=2&empty=&flag')).toEqual([
      ['a', '1'],
      ['b', 'hello world'],
      ['c', '✓'],
      ['a', '2'],
      ['empty', ''],
      ['flag', ''],
    ]);
  });
});

describe('formFieldsJob (a slice at a time)', () => {
  it('gives exactly what formFields gives, read in small pieces over many steps', () => {
    const text = '?a=1&b=hello+world&c=%E2%9C%93&bad=%zz&a=2&empty=&flag&&x=%26';
    const job = formFieldsJob(text, 5);
    const now = ticking();
    let steps = 0;
    while (!job.step(0, now)) steps++;
    expect(steps).toBeGreaterThan(2);
    expect(job.items).toEqual(formFields(text));
    expect(formFieldsJob('', 5).step(0)).toBe(true);
  });
  it('a field whose name starts with "?" at the start of a piece keeps it (URLSearchParams drops a leading "?")', () => {
    const text = 'aaaaa=1&?q=2&bbbbb=3';
    const job = formFieldsJob(text, 5);
    while (!job.step(0, ticking()));
    expect(job.items).toEqual(formFields(text));
    expect(job.items).toContainEqual(['?q', '2']);
  });
});

describe('multipartJob (a slice at a time)', () => {
  it('reads 1,000 parts over several steps, the same parts as parseMultipart', () => {
    const body = enc(Array.from({ length: 1000 }, (_, i) => `--b\r\nContent-Disposition: form-data; name="p${i}"\r\n\r\nv${i}\r\n`).join('') + '--b--\r\n');
    const job = multipartJob(body, 'multipart/form-data; boundary=b');
    const now = ticking();
    let steps = 0;
    while (!job.step(0, now)) steps++;
    expect(steps).toBeGreaterThan(10);
    expect(job.error).toBeNull();
    expect(job.items.map((p) => p.name)).toEqual(parseMultipart(body, 'multipart/form-data; boundary=b').parts.map((p) => p.name));
    expect(job.items.at(-1)!.name).toBe('p999');
  });
});

describe('paging', () => {
  it('shows 1,000 more per press, up to the total, drawn in chunks of 200', () => {
    expect(showMore(200, 17_138)).toBe(1200);
    expect(showMore(17_000, 17_138)).toBe(17_138);
    expect(chunkRanges(200, 17_138)).toEqual([[0, 200]]);
    expect(chunkRanges(1200, 1050)).toEqual([[0, 200], [200, 400], [400, 600], [600, 800], [800, 1000], [1000, 1050]]);
    expect(chunkRanges(200, 0)).toEqual([]);
  });
});

describe('parseMultipart', () => {
  const boundary = '----hooklab42';
  const file = new Uint8Array(3000).map((_, i) => (i * 7) % 256);
  const body = new Uint8Array([
    ...enc(`--${boundary}\r\nContent-Disposition: form-data; name="field"\r\n\r\nvalue\r\n`),
    ...enc(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="résumé.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    ...file,
    ...enc(`\r\n--${boundary}--\r\n`),
  ]);

  it('finds each part with its name, filename, type and exact size', () => {
    const mp = parseMultipart(body, `multipart/form-data; boundary=${boundary}`);
    expect(mp.error).toBeNull();
    expect(mp.parts.map((p) => [p.name, p.filename, p.contentType, p.size])).toEqual([
      ['field', null, null, 5],
      ['file', 'résumé.bin', 'application/octet-stream', 3000],
    ]);
    expect(decodeUtf8(mp.parts[0].body)).toBe('value');
    expect([...mp.parts[1].body]).toEqual([...file]);
  });

  it('accepts a quoted boundary and bare LF line breaks', () => {
    const lf = enc(`--b\nContent-Disposition: form-data; name="x"\n\n1\n--b--\n`);
    const mp = parseMultipart(lf, 'multipart/form-data; boundary="b"');
    expect(mp.error).toBeNull();
    expect(mp.parts.map((p) => [p.name, decodeUtf8(p.body)])).toEqual([['x', '1']]);
  });

  it('says what is wrong, keeping the parts found so far', () => {
    expect(parseMultipart(body, 'multipart/form-data').error).toMatch(/no boundary/);
    expect(parseMultipart(body, 'multipart/form-data; boundary=other').error).toMatch(/does not occur/);
    const cut = parseMultipart(body.subarray(0, 200), `multipart/form-data; boundary=${boundary}`);
    expect(cut.error).toMatch(/closing boundary is missing/);
    expect(cut.parts[0].name).toBe('field');
  });

  it('reads header parameters, including RFC 5987 filename*', () => {
    expect(headerParams(`form-data; name="a\\"b"; filename*=UTF-8''%C3%A9t%C3%A9.txt; filename="ete.txt"`)).toEqual({ name: 'a"b', filename: 'été.txt' });
  });
});

describe('hexDump', () => {
  it('prints offset, two groups of eight bytes and printable ASCII', () => {
    const dump = hexDump(enc('{"a":1}\n\u0000 binary data here'));
    expect(dump.split('\n')).toEqual([
      '00000000  7b 22 61 22 3a 31 7d 0a  00 20 62 69 6e 61 72 79  |{"a":1}.. binary|',
      '00000010  20 64 61 74 61 20 68 65  72 65                    | data here|',
    ]);
  });
  it('dumps a window', () => {
    const bytes = new Uint8Array(64).map((_, i) => i);
    expect(hexDump(bytes, 32, 16)).toBe('00000020  20 21 22 23 24 25 26 27  28 29 2a 2b 2c 2d 2e 2f  | !"#$%&\'()*+,-./|');
  });
});

describe('bytes and view choice', () => {
  it('decodes base64 and UTF-8 bodies to bytes', () => {
    expect([...base64ToBytes('AP8Q')]).toEqual([0, 255, 16]);
    expect([...bodyBytes('é', 'utf8')]).toEqual([0xc3, 0xa9]);
    expect(decodeUtf8(new Uint8Array([0xff, 0xfe]))).toBeNull();
  });
  it('offers the views that fit, best first', () => {
    expect(availableViews('application/json', '{"a":1}', 7)).toEqual(['json', 'text', 'hex']);
    expect(availableViews('application/vnd.api+json; charset=utf-8', 'oops', 4)).toEqual(['json', 'text', 'hex']);
    expect(availableViews('text/plain', '[1,2]', 5)).toEqual(['json', 'text', 'hex']);
    expect(availableViews('application/x-www-form-urlencoded', 'a=1', 3)).toEqual(['form', 'text', 'hex']);
    expect(availableViews('multipart/form-data; boundary=x', null, 100)).toEqual(['multipart', 'hex']);
    expect(availableViews('application/octet-stream', null, 10)).toEqual(['hex']);
    expect(availableViews('application/json', '', 0)).toEqual([]);
  });
});

describe('decodeBody (text in the declared charset)', () => {
  const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x20, 0xa3, 0x35]); // "café £5" in ISO-8859-1
  const utf16le = (s: string) => new Uint8Array(Uint16Array.from(s, (c) => c.charCodeAt(0)).buffer);

  it('reads the charset parameter of a Content-Type', () => {
    expect(declaredCharset('text/plain; charset=ISO-8859-1')).toBe('iso-8859-1');
    expect(declaredCharset('text/plain;charset="utf-16le"')).toBe('utf-16le');
    expect(declaredCharset('text/plain')).toBeNull();
    expect(declaredCharset(null)).toBeNull();
  });

  it('decodes ISO-8859-1 and UTF-16 bodies that are not UTF-8, and names the charset', () => {
    expect(decodeUtf8(latin1)).toBeNull();
    expect(decodeBody(latin1, 'text/plain; charset=iso-8859-1')).toEqual({ text: 'café £5', charset: 'iso-8859-1', decodedAs: 'windows-1252' });
    const le = utf16le('Grüße, 世界');
    expect(decodeBody(le, 'text/plain; charset=utf-16le')).toEqual({ text: 'Grüße, 世界', charset: 'utf-16le', decodedAs: null });
    // Big-endian, and "utf-16" with a byte order mark (taken off the text).
    expect(decodeBody(new Uint8Array([0, 0x68, 0, 0x69]), 'text/plain; charset=UTF-16BE')?.text).toBe('hi');
    expect(decodeBody(new Uint8Array([0xff, 0xfe, 0x68, 0, 0x69, 0]), 'text/plain; charset=utf-16')?.text).toBe('hi');
  });

  it('decodes by the declared charset even when the bytes happen to be valid UTF-8', () => {
    // ASCII text in UTF-16LE is valid UTF-8 with NULs in it: as UTF-8 it would be binary.
    const le = utf16le('ok');
    expect(decodeBody(le, 'text/plain')).toBeNull();
    expect(decodeBody(le, 'text/plain; charset=utf-16le')?.text).toBe('ok');
    // UTF-8 bytes labelled latin-1 read as the label says (what a browser shows too).
    expect(decodeBody(new TextEncoder().encode('é'), 'text/plain; charset=iso-8859-1')?.text).toBe('Ã©');
  });

  it('keeps real binary out of the text view: odd UTF-16, lone surrogates, control bytes', () => {
    expect(decodeBody(new Uint8Array([0x68, 0, 0x69]), 'text/plain; charset=utf-16le')).toBeNull();
    expect(decodeBody(new Uint8Array([0x00, 0xd8, 0x69, 0]), 'text/plain; charset=utf-16le')).toBeNull();
    // Every byte maps in windows-1252: only the control characters tell binary apart.
    expect(decodeBody(new Uint8Array([0x00, 0xff, 0x10, 0x41, 0x42, 0x0a]), 'application/octet-stream; charset=iso-8859-1')).toBeNull();
    expect(decodeBody(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), 'image/png; charset=latin1')).toBeNull();
  });

  it('reads UTF-8 when no charset, a UTF-8 one, or one the browser does not know is declared', () => {
    const utf8 = new TextEncoder().encode('héllo');
    for (const ct of ['text/plain', 'text/plain; charset=utf-8', 'text/plain; charset=UTF8', 'text/plain; charset=x-no-such-charset'])
      expect(decodeBody(utf8, ct)).toEqual({ text: 'héllo', charset: null, decodedAs: null });
    expect(decodeBody(latin1, 'text/plain; charset=x-no-such-charset')).toBeNull();
    // The API's UTF-8 string is used as it is, not decoded again.
    expect(decodeBody(utf8, 'text/plain', 'as sent')?.text).toBe('as sent');
  });
});
