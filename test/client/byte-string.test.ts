// Bytes as one character per byte and back: the one helper behind base64, header values,
// Copy as cURL and generated secrets.
import { describe, expect, it } from 'vitest';
import { bytesToString, stringToBytes, utf8Bytes } from '../../client/src/lib/byte-string.ts';

describe('byte strings', () => {
  it('every byte round-trips, past a slice boundary (a 1 MiB body does not overflow the stack)', () => {
    const big = new Uint8Array(1024 * 1024 + 3);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 256;
    const s = bytesToString(big);
    expect(s.length).toBe(big.length);
    expect(s).toBe(Buffer.from(big).toString('latin1'));
    expect(stringToBytes(s)).toEqual(big);
  });

  it('a character above 0xFF is text where bytes were meant: its UTF-8 bytes, not its low byte', () => {
    expect(Buffer.from(stringToBytes('\xe9✓')).toString('hex')).toBe('e9e29c93');
    expect(Buffer.from(stringToBytes('😀')).toString('hex')).toBe('f09f9880');
  });

  it('utf8Bytes: text as its UTF-8 bytes, ASCII as it is', () => {
    expect(utf8Bytes('plain')).toBe('plain');
    expect(Buffer.from(utf8Bytes('café ✓'), 'latin1').toString()).toBe('café ✓');
  });
});
