// The first key given twice in one object of a JSON text. JSON.parse keeps the last silently;
// in a config file a duplicate is almost surely a mistake (YAML's parser refuses one too).
// Only for a text JSON.parse has taken: a plain scan, no validation of its own.

export interface DuplicateKey {
  /** Where the second one is: 1-based. */
  line: number;
  column: number;
  /** The keys and indexes down to it (as zod names a path: ['bins', 0, 'id']). */
  path: (string | number)[];
}

interface Open {
  /** An object's keys so far; null for an array. */
  keys: Set<string> | null;
  /** The current key or index inside it (null before the first). */
  at: string | number | null;
}

export function findDuplicateKey(text: string): DuplicateKey | null {
  const stack: Open[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (top.keys.has(key)) return { ...position(text, start), path: [...stack.slice(0, -1).map((o) => o.at!), key] };
        top.keys.add(key);
        top.at = key;
        expectKey = false;
      }
    } else if (c === '{') {
      stack.push({ keys: new Set(), at: null });
      expectKey = true;
    } else if (c === '[') {
      stack.push({ keys: null, at: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top.keys) expectKey = true;
      else top.at = (top.at as number) + 1;
    }
  }
  return null;
}

function position(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: at - lineStart + 1 };
}
