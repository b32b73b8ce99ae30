// Bytes posted to another thread carry their whole ArrayBuffer: ownBytes makes a pool view
// its own buffer, and leaves a buffer that is already its own as it is.
import { describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { ownBytes } from '../../server/lib/own-bytes.ts';

const posted = (b: Buffer) =>
  new Promise<number>((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port2.once('message', (m: Uint8Array) => {
      resolve(m.buffer.byteLength);
      port1.close();
    });
    port1.postMessage(b);
  });

describe('ownBytes', () => {
  it('copies a view of the buffer pool into a buffer of its own size; a message then carries just those bytes', async () => {
    const pooled = Buffer.from('ok\n');
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length); // Node's pool, 8 KiB
    expect(await posted(pooled)).toBe(pooled.buffer.byteLength);
    const own = ownBytes(pooled);
    expect(own.equals(pooled)).toBe(true);
    expect(own.buffer.byteLength).toBe(3);
    expect(await posted(own)).toBe(3);
  });

  it('answers a buffer that is its whole ArrayBuffer as it is (no copy)', () => {
    const b = Buffer.allocUnsafeSlow(16);
    expect(ownBytes(b)).toBe(b);
    const slice = b.subarray(4);
    expect(ownBytes(slice)).not.toBe(slice);
    expect(ownBytes(slice).buffer.byteLength).toBe(12);
  });
});
