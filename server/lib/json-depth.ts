// How deep a JSON text nests, read from its bytes before anyone parses it: a body of a few KB
// can nest thousands of levels ("[[[[…"), which JSON.parse takes slowly and any recursive walk
// of the result (JSON.stringify, a key sort) cannot take at all (the stack overflows). Bodies a
// sender could send are parsed only when they nest no deeper than a limit real payloads never
// reach.

/** Nesting deeper than this is not parsed (Stripe, GitHub and Slack payloads nest under 15). */
export const MAX_JSON_DEPTH = 128;

/** Whether `body`'s objects and arrays nest at most `max` deep (brackets inside strings do not count). */
export function nestsWithin(body: Uint8Array, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return false;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return true;
}
