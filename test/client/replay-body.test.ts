// Edit & replay of a binary body as base64: what is sent (the API's base64 body), nothing when
// the bytes are unchanged, and a field error (nothing sent) for text that is not base64.
import { describe, expect, it } from 'vitest';
import { binaryBodyEdit, normalizeBase64 } from '../../client/src/lib/replay-body.ts';

const captured = Buffer.from([0, 1, 2, 0xfe, 0xff]).toString('base64'); // "AAEC/v8="

describe('binaryBodyEdit', () => {
  it('unchanged bytes are sent as captured (no body field), however the text is wrapped or padded', () => {
    expect(binaryBodyEdit(captured, captured)).toEqual({ ok: true, input: null, bytes: 5 });
    expect(binaryBodyEdit('AAEC\n/v8', captured)).toEqual({ ok: true, input: null, bytes: 5 });
    expect(binaryBodyEdit('  AA EC/v8=\r\n', captured)).toEqual({ ok: true, input: null, bytes: 5 });
  });

  it('other bytes are sent as a base64 body, canonical (padded, no whitespace), decoding to exactly those bytes', () => {
    const r = binaryBodyEdit('AAEC\n/v8A', captured);
    expect(r).toEqual({ ok: true, input: { body: 'AAEC/v8A', bodyEncoding: 'base64' }, bytes: 6 });
    const other = binaryBodyEdit('3q2+7w', captured);
    expect(other).toEqual({ ok: true, input: { body: '3q2+7w==', bodyEncoding: 'base64' }, bytes: 4 });
    if (other.ok && other.input) expect([...Buffer.from(other.input.body, 'base64')]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    // Emptied: an empty body is sent, not the captured one.
    expect(binaryBodyEdit('', captured)).toEqual({ ok: true, input: { body: '', bodyEncoding: 'base64' }, bytes: 0 });
  });

  it('text that is not base64 is an error (Node would quietly decode it into other bytes)', () => {
    for (const bad of ['AAEC/v8*', 'AAEC-v8_', 'QQ==QQ==', 'AAECA', 'QQ===', 'QUJD=', 'héllo']) {
      const r = binaryBodyEdit(bad, captured);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.error, bad).toMatch(/^not base64: /);
    }
    expect(binaryBodyEdit('AAEC*v8=', captured)).toEqual({ ok: false, error: expect.stringContaining('“*”') });
  });
});

describe('normalizeBase64', () => {
  it('pads, strips whitespace and counts the bytes', () => {
    expect(normalizeBase64('QQ')).toEqual({ ok: true, base64: 'QQ==', bytes: 1 });
    expect(normalizeBase64('QUI')).toEqual({ ok: true, base64: 'QUI=', bytes: 2 });
    expect(normalizeBase64('QUJD\nREVG')).toEqual({ ok: true, base64: 'QUJDREVG', bytes: 6 });
    expect(normalizeBase64('')).toEqual({ ok: true, base64: '', bytes: 0 });
  });

  it('agrees with Node on every byte value', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (let n = 0; n < 3; n++) {
      const b = all.subarray(0, 256 - n); // each length mod 3: no, one and two = of padding
      const r = normalizeBase64(b.toString('base64').replace(/=+$/, ''));
      expect(r).toEqual({ ok: true, base64: b.toString('base64'), bytes: b.length });
    }
  });
});
