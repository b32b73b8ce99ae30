// Edit & replay of a binary body: the user edits it as base64 text. Pure: checks the text and
// says what to send (the API's { body, bodyEncoding: 'base64' }), nothing when it is unchanged.

/** What an edited base64 body gives: the fields to send (none: as captured), or why not. */
export type Base64BodyEdit =
  | { ok: true; input: { body: string; bodyEncoding: 'base64' } | null; bytes: number }
  | { ok: false; error: string };

const ALPHABET = /^[A-Za-z0-9+/]*$/;

/**
 * Check base64 typed by hand (line breaks and spaces are ignored, `=` padding may be left
 * out) and answer it in canonical form with the number of bytes it stands for, or why it is
 * not base64. Strict, unlike the server's decoder (Node's skips what it does not know): a typo
 * must not quietly send other bytes.
 */
export function normalizeBase64(text: string): { ok: true; base64: string; bytes: number } | { ok: false; error: string } {
  const compact = text.replace(/\s+/g, '');
  const pad = /=*$/.exec(compact)![0].length;
  const data = compact.slice(0, compact.length - pad);
  if (!ALPHABET.test(data)) {
    const bad = [...data].find((c) => !/[A-Za-z0-9+/]/.test(c))!;
    return { ok: false, error: `not base64: “${bad}” is not one of A–Z, a–z, 0–9, + and / (= only as padding at the end)` };
  }
  if (data.length % 4 === 1) return { ok: false, error: 'not base64: its length is one character off (a character is missing or extra)' };
  const full = data + '='.repeat((4 - (data.length % 4)) % 4);
  if (pad > 0 && compact !== full) {
    return { ok: false, error: 'not base64: the = padding at the end does not fit its length' };
  }
  return { ok: true, base64: full, bytes: (data.length * 3) >> 2 };
}

/**
 * The body to send for an edited binary body: `captured` is the capture's body as the API
 * gave it (base64). Unchanged (the same bytes, however it is wrapped): null, sent as captured.
 */
export function binaryBodyEdit(text: string, captured: string): Base64BodyEdit {
  const n = normalizeBase64(text);
  if (!n.ok) return n;
  // The same bytes (compared decoded: "QQ==" and "QR==" are both "A").
  if (n.base64 === captured || atob(n.base64) === atob(captured)) return { ok: true, input: null, bytes: n.bytes };
  return { ok: true, input: { body: n.base64, bodyEncoding: 'base64' }, bytes: n.bytes };
}
