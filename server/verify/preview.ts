// The signed string as a result shows it: its first bytes (as text when they are UTF-8) and
// its full length, without copying the body.
import { isUtf8 } from 'node:buffer';
import type { SignedPreviewT } from '../../shared/schema/verify.ts';

export const PREVIEW_BYTES = 256;

export function preview(parts: readonly Buffer[], max = PREVIEW_BYTES): SignedPreviewT {
  let bytes = 0;
  for (const p of parts) bytes += p.length;
  const head = Buffer.concat(parts, Math.min(bytes, max));
  const truncated = bytes > max;
  // A cut may split a UTF-8 character: drop up to 3 bytes of it rather than fall back to base64.
  for (let cut = 0; cut <= (truncated ? 3 : 0) && cut < head.length; cut++) {
    const h = head.subarray(0, head.length - cut);
    if (isUtf8(h)) return { text: h.toString('utf8'), encoding: 'utf8', bytes, truncated };
  }
  if (head.length === 0) return { text: '', encoding: 'utf8', bytes, truncated };
  return { text: head.toString('base64'), encoding: 'base64', bytes, truncated };
}
