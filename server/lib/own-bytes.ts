// Bytes that cross to another thread (postMessage).

/**
 * Bytes to post to (or from) a thread: `b` itself when it is its whole ArrayBuffer, else a copy
 * of just its bytes. A message carries a view's whole buffer, and small Buffers (Buffer.from,
 * Buffer.concat) are views of Node's shared 8 KiB pool: a 3-byte answer would cross as 8 KiB,
 * copied and allocated on both sides, for every call.
 */
export function ownBytes(b: Buffer): Buffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b;
  const own = Buffer.allocUnsafeSlow(b.length);
  b.copy(own);
  return own;
}
