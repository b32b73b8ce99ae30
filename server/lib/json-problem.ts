// Where and why a JSON text does not parse, quoting none of it. JSON.parse's own messages quote
// the source around the error ('Unexpected token 'w', "secret: whsec_…" is not valid JSON'),
// and the texts read here (a config file, data files) hold secrets and bin ids. Only called
// once JSON.parse has failed: a plain scan, not fast.

export interface JsonProblem {
  /** 1-based. */
  line: number;
  column: number;
  what: string;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ['true', 'false', 'null'];

/** The first place `text` stops being JSON (RFC 8259), or null when it is JSON. */
export function findJsonProblem(text: string): JsonProblem | null {
  const at = scan(text);
  if (!at) return null;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at.i && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: at.i - lineStart + 1, what: at.what };
}

/** "line 3, column 13: unexpected character" (or, should the scan find nothing, "not valid JSON"). */
export function jsonProblem(text: string): string {
  const p = findJsonProblem(text);
  return p ? `line ${p.line}, column ${p.column}: ${p.what}` : 'not valid JSON';
}

/** For one line of a JSON-lines file: "column 13: unexpected character". */
export function jsonLineProblem(line: string): string {
  const p = findJsonProblem(line);
  return p ? `column ${p.column}: ${p.what}` : 'not valid JSON';
}

function scan(text: string): { i: number; what: string } | null {
  const n = text.length;
  let i = 0;
  // Open containers, innermost last (a loop, not recursion: a deeply nested text is no stack overflow).
  const stack: ('{' | '[')[] = [];
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else return;
    }
  };
  const bad = (what: string) => ({ i, what: i >= n ? 'unexpected end of input' : what });
  const string = (): { i: number; what: string } | null => {
    i++; // the opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return null;
      }
      if (c < 0x20) return { i, what: 'a control character (a line break?) inside a string' };
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else if (e !== undefined && e !== 'u' && '"\\/bfnrt'.includes(e)) i += 2;
        else return bad('a bad escape (\\) inside a string');
      } else i++;
    }
    return { i, what: 'a string that is never closed' };
  };
  const key = () => {
    ws();
    if (text[i] !== '"') return bad('expected a property name in double quotes');
    const p = string();
    if (p) return p;
    ws();
    if (text[i] !== ':') return bad("expected ':' after a property name");
    i++;
    ws();
    return null;
  };
  ws();
  for (;;) {
    // A value starts here.
    if (i >= n) return bad('');
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') i++;
      else {
        stack.push('{');
        const p = key();
        if (p) return p;
        continue;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') i++;
      else {
        stack.push('[');
        continue;
      }
    } else if (c === '"') {
      const p = string();
      if (p) return p;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) return bad('a bad number');
      i += m[0].length;
    } else {
      const lit = LITERALS.find((l) => text.startsWith(l, i));
      if (!lit) return bad('unexpected character');
      i += lit.length;
    }
    // After a value: a comma and the next one, the end of its container, or the end of the text.
    for (;;) {
      ws();
      const top = stack[stack.length - 1];
      if (!top) return i < n ? { i, what: 'unexpected text after the end' } : null;
      if (text[i] === ',') {
        i++;
        ws();
        if (top === '{') {
          const p = key();
          if (p) return p;
        }
        break;
      }
      if (text[i] === (top === '{' ? '}' : ']')) {
        i++;
        stack.pop();
        continue;
      }
      return bad(top === '{' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }
}
