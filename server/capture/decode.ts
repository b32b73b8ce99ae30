// Display-only decoding of content-encoding. The stored bytes stay as received; this output
// is capped so a decompression bomb costs at most `maxBytes`.
import zlib from 'node:zlib';

export interface Decoded {
  bytes: Buffer;
  truncated: boolean;
  error: string | null;
}

export function decodeContent(bytes: Buffer, encoding: string, maxBytes: number): Decoded | null {
  const enc = encoding.trim().toLowerCase();
  const opts = { maxOutputLength: maxBytes + 1 };
  let fn: (b: Buffer) => Buffer;
  if (enc === 'gzip' || enc === 'x-gzip') fn = (b) => zlib.gunzipSync(b, opts);
  else if (enc === 'deflate') fn = (b) => inflateEither(b, opts);
  else if (enc === 'br') fn = (b) => zlib.brotliDecompressSync(b, opts);
  else return null;
  try {
    const out = fn(bytes);
    return out.length > maxBytes ? { bytes: out.subarray(0, maxBytes), truncated: true, error: null } : { bytes: out, truncated: false, error: null };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE') {
      return { bytes: Buffer.alloc(0), truncated: true, error: `decoded body is larger than ${maxBytes} bytes; not shown` };
    }
    return { bytes: Buffer.alloc(0), truncated: false, error: `cannot decode ${enc}: ${e.message}` };
  }
}

/** "deflate" in the wild is either zlib-wrapped (per the RFC) or raw. */
function inflateEither(b: Buffer, opts: zlib.ZlibOptions): Buffer {
  try {
    return zlib.inflateSync(b, opts);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw err;
    return zlib.inflateRawSync(b, opts);
  }
}

/** A decoding stream for a content-encoding (deflate: zlib-wrapped per the RFC, else raw). */
function decoderFor(enc: string, raw = false): zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress | null {
  if (enc === 'gzip' || enc === 'x-gzip') return zlib.createGunzip();
  if (enc === 'deflate') return raw ? zlib.createInflateRaw() : zlib.createInflate();
  if (enc === 'br') return zlib.createBrotliDecompress();
  return null;
}

/**
 * For the detail view: the first `maxBytes` of the decoded body, and whether there was more.
 * Streamed and stopped at the cap, so a body that decodes past it (a bomb, or a big JSON
 * export) shows its beginning, marked truncated, where decodeContent can only refuse it.
 */
export async function decodeContentHead(bytes: Buffer, encoding: string, maxBytes: number): Promise<Decoded | null> {
  const enc = encoding.trim().toLowerCase();
  const first = await headOf(bytes, enc, maxBytes, false);
  if (first === null || !first.error || enc !== 'deflate') return first;
  const raw = await headOf(bytes, enc, maxBytes, true);
  return raw && !raw.error ? raw : first;
}

function headOf(bytes: Buffer, enc: string, maxBytes: number, raw: boolean): Promise<Decoded | null> {
  const z = decoderFor(enc, raw);
  if (!z) return Promise.resolve(null);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let done = false;
    const finish = (d: Decoded) => {
      if (done) return;
      done = true;
      z.destroy();
      resolve(d);
    };
    z.on('data', (c: Buffer) => {
      if (n + c.length > maxBytes) {
        chunks.push(c.subarray(0, maxBytes - n));
        finish({ bytes: Buffer.concat(chunks), truncated: true, error: null });
        return;
      }
      chunks.push(c);
      n += c.length;
    });
    z.on('end', () => finish({ bytes: Buffer.concat(chunks), truncated: false, error: null }));
    z.on('error', (e: Error) => finish({ bytes: Buffer.alloc(0), truncated: false, error: `cannot decode ${enc}: ${e.message}` }));
    z.end(bytes);
  });
}
