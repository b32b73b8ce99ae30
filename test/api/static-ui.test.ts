// The UI's files as the server serves them: the build's Brotli or gzip copy to a browser that
// takes it (with Vary), the bytes as built otherwise; hashed assets cached for good, the app
// shell never. A real server over loopback with a built-like directory of its own.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startServer, tempDir } from '../helpers/server.ts';

let srv: TestServer;
let dir: string;
const JS = Buffer.from(`console.log(${JSON.stringify('hooklab '.repeat(500))});\n`);

beforeAll(async () => {
  dir = await tempDir();
  await mkdir(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>hooklab</title><script type="module" src="/assets/index-abc123.js"></script>');
  await writeFile(path.join(dir, 'assets/index-abc123.js'), JS);
  await writeFile(path.join(dir, 'assets/index-abc123.js.gz'), gzipSync(JS));
  await writeFile(path.join(dir, 'assets/index-abc123.js.br'), brotliCompressSync(JS));
  // Removed after start (as a rebuild removes the last build's files).
  for (const ext of ['', '.gz', '.br']) await writeFile(path.join(dir, `assets/old-0ld0ld.js${ext}`), ext === '.br' ? brotliCompressSync(JS) : ext ? gzipSync(JS) : JS);
  srv = await startServer({ staticDir: dir, storage: 'memory' });
});

afterAll(async () => {
  await srv.cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** GET (or `method`) with the given Accept-Encoding (none: the header left out), the body as sent. */
function get(p: string, acceptEncoding?: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${srv.base}${p}`, { method, headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the UI files', () => {
  it('go compressed to a browser that takes it (Brotli first, else gzip), as built otherwise; hashed assets are cached for good', async () => {
    const br = await get('/assets/index-abc123.js', 'gzip, deflate, br');
    expect(br.status).toBe(200);
    // Before: sent as built (no Content-Encoding), whatever the browser took.
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(brotliDecompressSync(br.body).equals(JS)).toBe(true);
    expect(br.body.length).toBeLessThan(JS.length / 4);
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');

    const gz = await get('/assets/index-abc123.js', 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(JS)).toBe(true);

    const plain = await get('/assets/index-abc123.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(JS)).toBe(true);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('the app shell (any client route) is never cached, so a new build is picked up', async () => {
    const shell = await get('/bins/some-bin', 'gzip, br');
    expect(shell.status).toBe(200);
    expect(shell.headers['cache-control']).toBe('no-cache');
    expect(shell.body.toString()).toContain('/assets/index-abc123.js');
  });

  it('a file gone since start, or never built, is a plain 404 (not the app shell labelled as compressed script); nor does a POST carry the compressed headers; a compressed copy gone goes as built', async () => {
    await rm(path.join(dir, 'assets/old-0ld0ld.js'));
    await rm(path.join(dir, 'assets/old-0ld0ld.js.gz'));
    await rm(path.join(dir, 'assets/old-0ld0ld.js.br'));
    for (const p of ['/assets/old-0ld0ld.js', '/assets/never-built.js']) {
      const r = await get(p, 'gzip, br');
      // Before: 200, the app shell's HTML with Content-Encoding: br and a JavaScript type.
      expect(r.status).toBe(404);
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(r.headers['content-type']).toMatch(/^text\/plain/);
      expect(r.body.toString()).toContain('not in the current build');
    }
    const post = await get('/assets/index-abc123.js', 'gzip, br', 'POST');
    expect(post.status).toBe(404);
    expect(post.headers['content-encoding']).toBeUndefined();
    expect(post.headers['content-type']).not.toMatch(/javascript/);
    // HEAD is a file read too.
    const head = await get('/assets/index-abc123.js', 'br', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-encoding']).toBe('br');
    // Its Brotli copy gone (mid-rebuild, say), the file as built still there: sent as built.
    await rm(path.join(dir, 'assets/index-abc123.js.br'));
    const asBuilt = await get('/assets/index-abc123.js', 'br');
    expect(asBuilt.status).toBe(200);
    expect(asBuilt.headers['content-encoding']).toBeUndefined();
    expect(asBuilt.headers['content-type']).toMatch(/javascript/);
    expect(asBuilt.body.equals(JS)).toBe(true);
  });
});
