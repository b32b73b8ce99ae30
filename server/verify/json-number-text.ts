// A JSON number's text as written, found by path in a document already known to parse.
// JSON.parse rounds integers past 2^53 (820982911946154508 and …509 both read as …500), and
// Node 20's reviver has no `context.source` (Node 21+), so the text is scanned for instead.

const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function skipWs(t: string, i: number): number {
  while (i < t.length && isWs(t.charCodeAt(i))) i++;
  return i;
}

/** `i` at a string's opening quote: the index after its closing one. */
function skipString(t: string, i: number): number {
  for (i++; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x5c) i++; // a backslash: the next character is escaped
    else if (c === 0x22) return i + 1;
  }
  return i;
}

/** `i` at a value's first character: the index after its last. */
function skipValue(t: string, i: number): number {
  const c = t.charCodeAt(i);
  if (c === 0x22) return skipString(t, i);
  if (c === 0x7b || c === 0x5b) {
    // Iterative (no recursion): the depth was bounded before parsing, but a loop needs no stack.
    let depth = 0;
    while (i < t.length) {
      const d = t.charCodeAt(i);
      if (d === 0x22) {
        i = skipString(t, i);
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  // A number or a literal: up to the next delimiter.
  while (i < t.length) {
    const d = t.charCodeAt(i);
    if (d === 0x2c || d === 0x7d || d === 0x5d || isWs(d)) break;
    i++;
  }
  return i;
}

/** Where the member `name` of the object at `i` starts (the last one, as JSON.parse keeps), or -1. */
function member(t: string, i: number, name: string): number {
  let found = -1;
  i = skipWs(t, i + 1);
  while (i < t.length && t.charCodeAt(i) !== 0x7d) {
    const end = skipString(t, i);
    // Escapes ("\u0069d" is "id") are read as JSON.parse reads them.
    const key = JSON.parse(t.slice(i, end)) as string;
    i = skipWs(t, skipWs(t, end) + 1); // past the colon
    if (key === name) found = i;
    i = skipWs(t, skipValue(t, i));
    if (t.charCodeAt(i) === 0x2c) i = skipWs(t, i + 1);
  }
  return found;
}

/** Where item `n` of the array at `i` starts, or -1. */
function item(t: string, i: number, n: number): number {
  i = skipWs(t, i + 1);
  for (let k = 0; i < t.length && t.charCodeAt(i) !== 0x5d; k++) {
    if (k === n) return i;
    i = skipWs(t, skipValue(t, i));
    if (t.charCodeAt(i) === 0x2c) i = skipWs(t, i + 1);
  }
  return -1;
}

/**
 * The text of the number at `parts` (field names, or item indexes in arrays, as atPath takes
 * them) in `text`, a JSON document that JSON.parse accepts; undefined when there is none.
 */
export function numberTextAt(text: string, parts: readonly string[]): string | undefined {
  let i = skipWs(text, 0);
  for (const part of parts) {
    const c = text.charCodeAt(i);
    if (c === 0x7b) i = member(text, i, part);
    else if (c === 0x5b && /^\d+$/.test(part)) i = item(text, i, Number(part));
    else return undefined;
    if (i < 0) return undefined;
  }
  const c = text.charCodeAt(i);
  if (c !== 0x2d && !(c >= 0x30 && c <= 0x39)) return undefined;
  return text.slice(i, skipValue(text, i));
}
