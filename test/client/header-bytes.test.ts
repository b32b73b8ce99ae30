// Header values from the detail's text back to bytes (one character per byte), for Edit &
// replay and Copy as cURL: UTF-8 "café" (63 61 66 c3 a9) and Latin-1 "café" (63 61 66 e9) are
// shown alike, and each must go out as it came.
import { describe, expect, it } from 'vitest';
import type { HeaderCharset, HeaderPair } from '../../shared/api.ts';
import { utf8Bytes } from '../../client/src/lib/byte-string.ts';
import { capturedPairs, replayHeaderBytes } from '../../client/src/lib/header-bytes.ts';

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');
// As the API shows them: headers as text, and how each was made text.
const shown: HeaderPair[] = [
  ['X-A', 'café'],
  ['X-B', 'café'],
  ['X-C', 'café ✓'],
  ['X-D', 'plain'],
];
const charsets: HeaderCharset[] = ['utf8', 'latin1', 'utf8', 'ascii'];

describe('header bytes', () => {
  it('a detail\'s values go back to their captured bytes', () => {
    expect(capturedPairs(shown, charsets).map(([n, v]) => [n, hex(v)])).toEqual([
      ['X-A', '636166c3a9'],
      ['X-B', '636166e9'],
      ['X-C', hex(Buffer.from('café ✓').toString('latin1'))],
      ['X-D', hex('plain')],
    ]);
  });

  it('an edited replay: lines left as they were keep their bytes, the first unused lookalike each; edited and new values go as UTF-8', () => {
    const typed: HeaderPair[] = [
      ['X-A', 'café'],
      ['X-B', 'café'],
      ['X-C', 'café ✓!'],
      ['X-New', 'né'],
      ['X-D', 'plain'],
    ];
    expect(replayHeaderBytes(typed, shown, charsets).map(([n, v]) => [n, hex(v)])).toEqual([
      ['X-A', '636166c3a9'],
      ['X-B', '636166e9'],
      ['X-C', hex(utf8Bytes('café ✓!'))],
      ['X-New', '6ec3a9'],
      ['X-D', hex('plain')],
    ]);
    // Two lookalike lines under one name: each keeps the bytes of the one it stands for, in order.
    const twice: HeaderPair[] = [
      ['X', 'é'],
      ['X', 'é'],
    ];
    expect(replayHeaderBytes(twice, twice, ['latin1', 'utf8']).map(([, v]) => hex(v))).toEqual(['e9', 'c3a9']);
    // A third one typed: it has no captured bytes left, so UTF-8.
    expect(replayHeaderBytes([...twice, ['X', 'é']], twice, ['latin1', 'utf8']).map(([, v]) => hex(v))).toEqual(['e9', 'c3a9', 'c3a9']);
  });
});
