// Forwards as they cross to the forwarding thread and back (wire.ts): what goes in comes out.
import { describe, expect, it } from 'vitest';
import type { ForwardCall } from '../../server/forward/forward-thread.ts';
import type { ForwardResult } from '../../server/forward/request.ts';
import { decodeCall, decodeResult, encodeCall, encodeResult } from '../../server/forward/wire.ts';

// What structured clone does to a Buffer: it arrives as a plain Uint8Array.
const cloned = <T>(v: T): T => structuredClone(v);

const call = (headers: string[]): ForwardCall => ({
  d: { href: 'http://127.0.0.1:3000/hooks/a?x=1', origin: 'http://127.0.0.1:3000', path: '/hooks/a?x=1', host: '127.0.0.1:3000' },
  c: { method: 'POST', path: '/a', queryString: 'x=1', headers, body: Buffer.from([0, 1, 2, 255]) },
  connections: 'checked',
  track: true,
  soon: false,
});

describe('forward wire format', () => {
  it('a call comes out as it went in, headers in order, case and repeats', () => {
    const c = call(['Host', 'x', 'Content-Type', 'application/json', 'X-Dup', '1', 'x-dup', '2', 'X-Empty', '']);
    const back = decodeCall(cloned(encodeCall(c)));
    expect({ ...back, c: { ...back.c, body: Buffer.from(back.c.body) } }).toEqual(c);
  });

  it('headers with a line break (an edited replay) cross as a list, not joined', () => {
    const c = call(['X-Odd', 'a\nb', 'X-Next', 'c']);
    const wire = encodeCall(c);
    expect(Array.isArray(wire[7])).toBe(true);
    expect(decodeCall(cloned(wire)).c.headers).toEqual(['X-Odd', 'a\nb', 'X-Next', 'c']);
    expect(decodeCall(cloned(encodeCall(call([])))).c.headers).toEqual([]);
  });

  it('an answer comes out as it went in, its body a Buffer', () => {
    const r: ForwardResult = {
      url: 'http://127.0.0.1:3000/hooks',
      status: 503,
      headers: [['Retry-After', '5'], ['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']],
      body: Buffer.from('busy'),
      bodyTruncated: true,
      durationMs: 12,
      error: null,
      errorDetail: null,
    };
    const back = decodeResult(cloned(encodeResult(r)));
    expect(Buffer.isBuffer(back.body)).toBe(true);
    expect(back).toEqual(r);
    const failed: ForwardResult = { ...r, status: null, headers: [], body: Buffer.alloc(0), error: 'timeout', errorDetail: 'no answer within the timeout' };
    expect(decodeResult(cloned(encodeResult(failed)))).toEqual(failed);
  });
});
