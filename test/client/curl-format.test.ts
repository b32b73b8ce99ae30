// "Copy as cURL" and the small formatters.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CurlInput, MAX_INLINE_BODY, bytesQuote, exampleCurl, shellQuote, toCurl } from '../../client/src/lib/curl.ts';
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

describe('bytesQuote', () => {
  it('quotes bytes as $\'\\xHH\'; a character above 0xFF (text, no charset to rebuild its bytes) as its UTF-8 bytes, not \\x2713', () => {
    // "caf" + byte e9 (Latin-1) + " " + "✓" as text.
    const s = 'caf\xe9 ✓';
    expect(bytesQuote(s)).toBe("$'caf\\xe9 \\xe2\\x9c\\x93'");
    const out = execFileSync('bash', ['-c', `printf %s ${bytesQuote(s)}`]);
    expect(out.toString('hex')).toBe(Buffer.concat([Buffer.from('caf\xe9 ', 'latin1'), Buffer.from('✓')]).toString('hex'));
  });

  it('toCurl: header values given as text where bytes were meant (no headerCharsets) keep their characters above 0xFF', () => {
    const c = toCurl({ method: 'GET', url: 'http://x.test/h/a', size: 0, truncated: false, bodyText: '', bodyFile: 'a.bin', headers: [['X-Text', '✓ ok'], ['X-Mixed', 'caf\xe9 ✓']] });
    // Before: "✓" went as its low byte, 0x13 (a control character), and $'…' had \x2713.
    expect(c).toContain("-H 'X-Text: ✓ ok'");
    expect(c).toContain("-H $'X-Mixed: caf\\xe9 \\xe2\\x9c\\x93'");
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
    // The capture had no User-Agent or Accept: curl's own are switched off.
    expect(c).toBe(
      `curl 'http://localhost:8080/h/abc/hooks?x=1' \\\n  -H 'Content-Type: application/json' \\\n  -H 'X-Sig: a'\\''b' \\\n  -H 'User-Agent:' \\\n  -H 'Accept:' \\\n  --data-raw '{"a": "it'\\''s"}'`,
    );
  });
  it('names the method when curl would not guess it', () => {
    expect(toCurl({ ...base, method: 'GET', headers: [['User-Agent', 'x/1'], ['Accept', '*/*']] })).toBe(`curl 'http://localhost:8080/h/abc/hooks?x=1' \\\n  -H 'User-Agent: x/1' \\\n  -H 'Accept: */*'`);
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
  it('sends an empty header as empty (curl drops "Name: ", it sends "Name;" empty)', () => {
    const c = toCurl({ ...base, method: 'GET', headers: [['X-Empty', ''], ['X-Full', 'v']] });
    expect(c).toContain(`-H 'X-Empty;'`);
    expect(c).not.toContain('X-Empty:');
  });
  it('a HEAD is --head: -X HEAD would wait for a body', () => {
    expect(toCurl({ ...base, method: 'HEAD', headers: [] })).toMatch(/^curl --head 'http:/);
    expect(toCurl({ ...base, method: 'head', headers: [] })).not.toContain('-X');
  });
  it('switches off what curl adds by itself only when the capture had none of it', () => {
    const bare = toCurl({ ...base, method: 'POST', headers: [], bodyText: 'a=1', size: 3 });
    expect(bare).toContain(`-H 'Content-Type:'`); // --data-raw would claim a form
    expect(bare).toContain(`-H 'User-Agent:'`);
    expect(bare).toContain(`-H 'Accept:'`);
    const full = toCurl({ ...base, method: 'POST', headers: [['content-type', 'text/plain'], ['user-agent', 'Stripe/1.0'], ['accept', '*/*; q=0.5']], bodyText: 'a=1', size: 3 });
    expect(full).toContain(`-H 'content-type: text/plain'`);
    expect(full).not.toMatch(/-H '(Content-Type|User-Agent|Accept):'/i);
    // No body, no Content-Type to switch off.
    expect(toCurl({ ...base, method: 'GET', headers: [] })).not.toContain('Content-Type');
    // Over 1 MiB curl would add "Expect: 100-continue" (and wait for the 100).
    expect(toCurl({ ...base, method: 'POST', headers: [], bodyText: null, size: 2 * 1024 * 1024 })).toContain(`-H 'Expect:'`);
    expect(toCurl({ ...base, method: 'POST', headers: [], bodyText: 'x', size: 1 })).not.toContain('Expect');
  });
  it('a repeated header is given twice, in order', () => {
    const c = toCurl({ ...base, method: 'GET', headers: [['X-Dup', 'a'], ['Accept', '*/*'], ['X-Dup', 'b']] });
    expect(c.match(/-H 'X-Dup: [ab]'/g)).toEqual([`-H 'X-Dup: a'`, `-H 'X-Dup: b'`]);
  });
  it('a body too long for one shell argument goes from the downloaded file, with the same note as a binary one', () => {
    const at = (text: string) => toCurl({ ...base, method: 'POST', headers: [['Content-Type', 'application/json']], bodyText: text, size: new TextEncoder().encode(text).length, bodyFile: 'r1.json' });
    // Quoted (the " needs it), the body is its length + 2: the limit is on what the shell gets.
    const body = (n: number) => `"${'x'.repeat(n - 1)}`;
    const inline = at(body(MAX_INLINE_BODY - 2));
    expect(inline.startsWith(`curl `)).toBe(true);
    expect(inline.endsWith(`--data-raw '${body(MAX_INLINE_BODY - 2)}'`)).toBe(true);
    for (const big of [body(MAX_INLINE_BODY - 1), body(200 * 1024), '€'.repeat(MAX_INLINE_BODY / 3)]) {
      const c = at(big);
      expect(c.split('\n')[0]).toBe('# The body is too long for one shell argument: save it first with "Download raw body" (r1.json)');
      expect(c.endsWith('--data-binary @r1.json')).toBe(true);
      expect(c.length).toBeLessThan(1000);
    }
  });
  it('keeps the URL as captured: no curl globbing of [] {}, no squashing of /../', () => {
    expect(toCurl({ ...base, url: 'http://h/h/abc/x?a[0]=1&b={c}', method: 'GET', headers: [] })).toMatch(/^curl --globoff 'http:\/\/h\/h\/abc\/x\?a\[0\]=1&b=\{c\}'/);
    expect(toCurl({ ...base, url: 'http://h/h/abc/x/../y', method: 'GET', headers: [] })).toMatch(/^curl --path-as-is /);
    expect(toCurl({ ...base, url: 'http://h/h/abc/x/.', method: 'GET', headers: [] })).toMatch(/^curl --path-as-is /);
    expect(toCurl({ ...base, url: 'http://h/h/abc/x.y/..z?q=/../', method: 'GET', headers: [] })).toMatch(/^curl 'http/);
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

// The command run by the real curl against a server that records what arrives: the same
// method, target, headers (name case and order, repeats, empty values) and body bytes as the
// request it was copied from.
// curl is installed by .ci/run (Debian's package); without it this fails rather than skips.
describe('Copy as cURL, run by curl', () => {
  interface Got {
    method: string;
    url: string;
    headers: [string, string][];
    body: Buffer;
  }
  let server: http.Server;
  let origin: string;
  let dir: string;
  const waiting: ((g: Got) => void)[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hooklab-curl-'));
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const flat = req.rawHeaders;
        const headers: [string, string][] = [];
        for (let i = 0; i < flat.length; i += 2) headers.push([flat[i], flat[i + 1]]);
        waiting.shift()?.({ method: req.method!, url: req.url!, headers, body: Buffer.concat(chunks) });
        // An answer with a body, as a real receiver's: what "curl -X HEAD" would wait for.
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' });
        res.end(req.method === 'HEAD' ? undefined : 'ok\n');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  // A test that failed before its copy arrived leaves a waiter: it must not take the next one's.
  beforeEach(() => {
    waiting.length = 0;
  });
  afterAll(async () => {
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const next = () => new Promise<Got>((r) => waiting.push(r));
  /** What the two requests must share: the hop headers are the client's own business. */
  const hop = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'expect']);
  const comparable = (g: Got) => ({ method: g.method, url: g.url, headers: g.headers.filter(([n]) => !hop.has(n.toLowerCase())), body: g.body.toString('hex') });

  /** `headers` values are bytes, one character per byte (as Node reads them and the UI hands them to toCurl). */
  async function replayed(method: string, target: string, headers: [string, string][], body?: Buffer | string, shell = 'sh') {
    const arrived = next();
    // Raw: the target exactly as written (new URL() would resolve its dot segments).
    await new Promise<void>((resolve, reject) => {
      const req = http.request(origin + '/', { path: target, method, headers: [['Host', new URL(origin).host], ...headers].flat(), agent: false }, (res) => res.resume().on('end', resolve));
      req.on('error', reject);
      req.end(body);
    });
    const original = await arrived;
    let text: string | null = null;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(original.body);
    } catch {
      /* binary: Copy as cURL points at the downloaded file */
    }
    await writeFile(path.join(dir, 'r1.bin'), original.body);
    const input: CurlInput = { method: original.method, url: origin + original.url, headers: original.headers, bodyText: text, size: original.body.length, bodyFile: 'r1.bin', truncated: false };
    const command = toCurl(input).replace(/\\\n/g, ''); // as pasted, minus the line breaks
    const again = next();
    // A curl that waits for ever (-X HEAD) is stopped: generous, it answers in milliseconds.
    await new Promise<void>((resolve, reject) =>
      execFile(shell, ['-c', `${command} --silent --show-error --output /dev/null`], { cwd: dir, timeout: 20_000 }, (err, _out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve())),
    );
    const copy = await again;
    return { original, copy, command };
  }

  it('an empty header, a repeated one, and no User-Agent or Accept arrive as they were', async () => {
    const { original, copy } = await replayed('GET', '/a', [['X-Empty', ''], ['X-Dup', '1'], ['X-Dup', '2']]);
    expect(original.headers).toContainEqual(['X-Empty', '']);
    expect(comparable(copy)).toEqual(comparable(original));
  });

  it('a HEAD comes back as a HEAD, and curl does not wait for a body', async () => {
    const { original, copy } = await replayed('HEAD', '/b', [['X-A', '1'], ['User-Agent', 'sender/2'], ['Accept', 'application/json']]);
    expect(copy.method).toBe('HEAD');
    expect(comparable(copy)).toEqual(comparable(original));
  });

  it('a body that starts with "@" is sent as it is, not read from the file it names', async () => {
    // Before (--data-binary), a stranger's body "@/etc/hostname" uploaded this machine's file.
    await writeFile(path.join(dir, 'secret.txt'), 'the local file');
    const { original, copy, command } = await replayed('POST', '/at', [['Content-Type', 'text/plain']], '@secret.txt');
    expect(command).toContain('--data-raw @secret.txt');
    expect(copy.body.toString()).toBe('@secret.txt');
    expect(comparable(copy)).toEqual(comparable(original));
  });

  it('a body without a Content-Type gets none', async () => {
    const { original, copy } = await replayed('POST', '/c', [['X-Sig', 's']], 'a=1&b=2');
    expect(comparable(copy)).toEqual(comparable(original));
  });

  it('a 200 KiB text body (too long for one argument) and a 1.2 MiB binary one come byte for byte from the file', async () => {
    const text = `{"pad":"${'0123456789abcdef'.repeat(200 * 64)}"}`;
    const big = await replayed('PUT', '/d?x=1', [['Content-Type', 'application/json'], ['User-Agent', 'sender/2']], text);
    expect(big.command).toContain('--data-binary @r1.bin');
    expect(comparable(big.copy)).toEqual(comparable(big.original));

    const bytes = Buffer.alloc(1.2 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    const bin = await replayed('POST', '/e', [['Content-Type', 'application/octet-stream']], bytes);
    expect(comparable(bin.copy)).toEqual(comparable(bin.original));
    // Nor did curl add an Expect of its own to a body this size.
    expect(bin.copy.headers.map(([n]) => n.toLowerCase())).not.toContain('expect');
  });

  it('header values beyond ASCII arrive as their bytes: UTF-8 ones as text, a Latin-1 one (not UTF-8) as $\'\\xHH\' in bash', async () => {
    const bytes = (b: Buffer) => b.toString('latin1');
    const headers: [string, string][] = [
      ['X-Utf8', bytes(Buffer.from('café ✓'))],
      ['X-Latin1', bytes(Buffer.from([0x63, 0x61, 0x66, 0xe9]))],
      ['X-Quote', bytes(Buffer.from([0x27, 0x5c, 0xff, 0x41]))], // ' \ ÿ A: quoting inside $'…' too
    ];
    const { original, copy, command } = await replayed('GET', '/u', headers, undefined, 'bash');
    // Before, the Latin-1 "é" went as UTF-8 (c3 a9).
    expect(comparable(copy)).toEqual(comparable(original));
    expect(command).toContain(`-H 'X-Utf8: café ✓'`);
    expect(command).toContain(`-H $'X-Latin1: caf\\xe9'`);
    expect(command).toContain(`-H $'X-Quote: \\'\\\\\\xffA'`);
  });

  it('a target with [] {} and dot segments arrives as written', async () => {
    const { original, copy } = await replayed('GET', '/x/../y/./z?a[0]=1&b={c}', []);
    expect(original.url).toBe('/x/../y/./z?a[0]=1&b={c}');
    expect(comparable(copy)).toEqual(comparable(original));
  });
});
