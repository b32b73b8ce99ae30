// "Copy as cURL" and the small formatters.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { exampleCurl, shellQuote, toCurl } from '../../client/src/lib/curl.ts';
import { formatBytes, formatDuration, statusTone } from '../../client/src/lib/format.ts';

describe('shellQuote', () => {
  it('leaves safe words alone and single-quotes the rest', () => {
    expect(shellQuote('https://x.test/h/abc')).toBe('https://x.test/h/abc');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
  });
  it('round-trips through a real shell', () => {
    const nasty = `it's "quoted" $HOME \`id\` \\ \n <b>&amp;</b> ; rm -rf /`;
    const out = execFileSync('sh', ['-c', `printf %s ${shellQuote(nasty)}`], { encoding: 'utf8' });
    expect(out).toBe(nasty);
  });
});

describe('toCurl', () => {
  const base = { url: 'http://localhost:8080/h/abc/hooks?x=1', size: 0, truncated: false, bodyText: '', bodyFile: 'abc.bin' };
  it('a JSON POST: headers in order minus the hop ones, the body verbatim', () => {
    const c = toCurl({
      ...base,
      method: 'POST',
      headers: [
        ['Host', 'localhost:8080'],
        ['Content-Type', 'application/json'],
        ['X-Sig', "a'b"],
        ['Content-Length', '13'],
      ],
      bodyText: '{"a": "it\'s"}',
      size: 13,
    });
    expect(c).toBe(`curl 'http://localhost:8080/h/abc/hooks?x=1' \\\n  -H 'Content-Type: application/json' \\\n  -H 'X-Sig: a'\\''b' \\\n  --data-binary '{"a": "it'\\''s"}'`);
  });
  it('names the method when curl would not guess it', () => {
    expect(toCurl({ ...base, method: 'GET', headers: [] })).toBe(`curl 'http://localhost:8080/h/abc/hooks?x=1'`);
    expect(toCurl({ ...base, method: 'DELETE', headers: [] })).toMatch(/^curl -X DELETE /);
    expect(toCurl({ ...base, method: 'POST', headers: [] })).toMatch(/^curl -X POST /);
    expect(toCurl({ ...base, method: 'PUT', headers: [], bodyText: 'x', size: 1 })).toMatch(/^curl -X PUT /);
  });
  it('binary or truncated bodies say so instead of pasting bytes', () => {
    const c = toCurl({ ...base, method: 'POST', headers: [], bodyText: null, size: 5000, truncated: true, bodyFile: 'abc.bin' });
    expect(c).toContain('--data-binary @abc.bin');
    expect(c).toContain('"Download raw body" (abc.bin)');
    expect(c).toContain('# The body is binary');
    expect(c).toContain('original was 5000 bytes');
  });
  it('the example for a bin is a POST of JSON', () => {
    expect(exampleCurl('http://h/h/abc')).toBe(`curl -X POST http://h/h/abc \\\n  -H 'Content-Type: application/json' \\\n  -d '{"event":"hello","id":1}'`);
  });
});

describe('format', () => {
  it('bytes', () => {
    expect([0, 1023, 1024, 1536, 10 * 1024, 5 * 1024 * 1024].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 KB', '1.5 KB', '10 KB', '5.0 MB']);
  });
  it('durations read at every scale', () => {
    expect([0, 850, 5200, 42_000, 252_000, 3_600_000, 12_000_000, 86_400_000, 3 * 86_400_000 + 7_200_000, -5000].map(formatDuration)).toEqual([
      '0 ms',
      '850 ms',
      '5.2 s',
      '42 s',
      '4 min 12 s',
      '1 h',
      '3 h 20 min',
      '24 h',
      '3 d 2 h',
      '-5 s',
    ]);
  });
  it('status tones', () => {
    expect([200, 204, 301, 404, 429, 500, 503, null].map(statusTone)).toEqual(['ok', 'ok', 'info', 'warn', 'warn', 'bad', 'bad', 'bad']);
  });
});

describe('download names', () => {
  it('take the extension of the content type, for the server and for Copy as cURL alike', async () => {
    const { downloadName, extensionFor } = await import('../../shared/filename.ts');
    expect(downloadName('r1', 'application/json; charset=utf-8')).toBe('r1.json');
    expect(downloadName('r1', 'application/vnd.github+json')).toBe('r1.json');
    expect(downloadName('r1', 'text/plain')).toBe('r1.txt');
    expect(downloadName('r1', 'multipart/form-data; boundary=x')).toBe('r1.multipart');
    expect(downloadName('r1', 'image/png')).toBe('r1.png');
    expect(downloadName('r1', null)).toBe('r1.bin');
    expect(extensionFor('text/x-weird')).toBe('txt');
  });
});
