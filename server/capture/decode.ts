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
