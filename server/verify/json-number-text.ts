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

/** A JSON number whose text String(JSON.parse(text)) does not give back (past 2^53, 10.50, 1e5): kept as written. */
export class NumberText {
  constructor(readonly text: string) {}
}

/**
 * `text` (a JSON document that JSON.parse accepts, nesting within MAX_JSON_DEPTH) read as
 * JSON.parse reads it (same keys, same order, the last of a repeated key), except that a
 * number JSON.parse would not give back as written is a NumberText. Objects have no prototype
 * (a "__proto__" member is a member, as with JSON.parse). `odd`: there is such a number.
 */
export function parseKeepingNumbers(text: string): { value: unknown; odd: boolean } {
  let i = 0;
  let odd = false;
  // Recursive: the depth was bounded before (nestsWithin), as for JSON.parse itself.
  const value = (): unknown => {
    i = skipWs(text, i);
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) {
      const object = c === 0x7b;
      const out: unknown[] | Record<string, unknown> = object ? (Object.create(null) as Record<string, unknown>) : [];
      i = skipWs(text, i + 1);
      while (text.charCodeAt(i) !== (object ? 0x7d : 0x5d)) {
        if (object) {
          const end = skipString(text, i);
          const key = JSON.parse(text.slice(i, end)) as string;
          i = skipWs(text, end) + 1; // past the colon
          (out as Record<string, unknown>)[key] = value();
        } else (out as unknown[]).push(value());
        i = skipWs(text, i);
        if (text.charCodeAt(i) === 0x2c) i = skipWs(text, i + 1);
      }
      i++;
      return out;
    }
    const end = skipValue(text, i);
    const token = text.slice(i, end);
    i = end;
    if (c === 0x22) return JSON.parse(token) as string;
    if (c === 0x74) return true;
    if (c === 0x66) return false;
    if (c === 0x6e) return null;
    const n = Number(token);
    if (String(n) === token) return n;
    odd = true;
    return new NumberText(token);
  };
  const v = value();
  return { value: v, odd };
}
