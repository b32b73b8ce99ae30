// Pretty-printing big JSON without freezing the page: a flat scanner (no tokens, no
// recursion) that formats a valid JSON text a slice at a time and keeps every literal as
// written (12.50 stays 12.50). Output comes in blocks of whole lines, so the page can show
// the first ones while the rest is still being formatted. Past the limits in json-limits.ts
// (the depth, the indentation) it stops with `tooDeep` and no blocks. Pure.
import { JSON_MAX_DEPTH, TOO_DEEP, indentCharsMax, tooLong } from './json-limits.ts';

export interface PrettyBlocks {
  /** Finished blocks of whole lines (each but the last ends with "\n"). */
  blocks: string[];
  done: boolean;
  /** Set (with `blocks` emptied) when the text is nested past the limits: where, and which. */
  tooDeep: { message: string; offset: number } | null;
  /** Format on for about `budgetMs`; answers true when the whole text is done. */
  step(budgetMs: number, now?: () => number): boolean;
}

const BLOCK_CHARS = 32 * 1024;

/** For a text JSON.parse accepted; `indent` per level. */
export function prettyJsonBlocks(text: string, indent = '  '): PrettyBlocks {
  const n = text.length;
  const indents: string[] = ['\n'];
  const maxIndent = indentCharsMax(n);
  let indented = 0;
  const nl = (d: number) => {
    const s = indents[d] ?? (indents[d] = `\n${indent.repeat(d)}`);
    indented += s.length;
    return s;
  };
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let depth = 0;
  let pieces: string[] = [];
  let size = 0;
  const out: PrettyBlocks = { blocks: [], done: false, tooDeep: null, step };

  const push = (s: string) => {
    pieces.push(s);
    size += s.length;
  };
  // Too deep to format: drop what was formatted, so no part of the huge text is ever kept.
  const stop = (message: string, at = i) => {
    out.tooDeep = { message, offset: at };
    out.blocks = [];
    pieces = [];
    out.done = true;
    return true;
  };
  // Cut a block at the last line break once it is big enough.
  const cut = (final: boolean) => {
    if (!final && size < BLOCK_CHARS) return;
    const joined = pieces.join('');
    const at = final ? joined.length : joined.lastIndexOf('\n');
    if (at <= 0) return;
    out.blocks.push(joined.slice(0, at + (final ? 0 : 1)));
    const rest = joined.slice(at + (final ? 0 : 1));
    pieces = rest ? [rest] : [];
    size = rest.length;
  };

  function step(budgetMs: number, now: () => number = () => performance.now()): boolean {
    if (out.done) return true;
    const until = now() + budgetMs;
    let ops = 0;
    while (i < n) {
      if (++ops % 2048 === 0) {
        // Checked here, not per line: 2048 steps add at most ~2 million characters more.
        if (indented > maxIndent) return stop(tooLong(maxIndent));
        cut(false);
        if (now() > until) return false;
      }
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) {
        i++;
      } else if (c === 34) {
        // A string: to the next quote not escaped by an odd run of backslashes.
        let j = i + 1;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q === -1) {
            j = n - 1;
            break;
          }
          let b = q - 1;
          while (text.charCodeAt(b) === 92) b--;
          if ((q - 1 - b) % 2 === 0) {
            j = q;
            break;
          }
          j = q + 1;
        }
        push(text.slice(i, j + 1));
        i = j + 1;
      } else if (c === 123 || c === 91) {
        let k = i + 1;
        while (k < n && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9 || text.charCodeAt(k) === 10 || text.charCodeAt(k) === 13)) k++;
        const close = c === 123 ? 125 : 93;
        if (text.charCodeAt(k) === close) {
          push(c === 123 ? '{}' : '[]');
          i = k + 1;
        } else {
          // At the first value too deep, where jsonView says it.
          if (++depth > JSON_MAX_DEPTH) return stop(TOO_DEEP, k);
          push(c === 123 ? '{' : '[');
          push(nl(depth));
          i++;
        }
      } else if (c === 125 || c === 93) {
        depth--;
        push(nl(depth));
        push(c === 125 ? '}' : ']');
        i++;
      } else if (c === 44) {
        push(',');
        push(nl(depth));
        i++;
      } else if (c === 58) {
        push(': ');
        i++;
      } else {
        // A number or a literal, as written.
        let k = i + 1;
        while (k < n) {
          const d = text.charCodeAt(k);
          if (d === 44 || d === 125 || d === 93 || d === 32 || d === 9 || d === 10 || d === 13) break;
          k++;
        }
        push(text.slice(i, k));
        i = k;
      }
    }
    if (indented > maxIndent) return stop(tooLong(maxIndent));
    cut(true);
    out.done = true;
    return true;
  }
  return out;
}

/** Where JSON.parse stopped, from its message ("… at position 12" or "(line 3 column 17)"), if it says. */
export function parseErrorOffset(message: string, text: string): number | null {
  const pos = /position (\d+)/.exec(message);
  if (pos) return Number(pos[1]);
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (!lc) return null;
  let line = 1;
  let off = 0;
  while (line < Number(lc[1])) {
    const nlAt = text.indexOf('\n', off);
    if (nlAt === -1) break;
    off = nlAt + 1;
    line++;
  }
  return off + Number(lc[2]) - 1;
}

/** Cut long text into blocks of whole lines (a line longer than a block is cut inside). */
export function textBlocks(text: string, blockChars = BLOCK_CHARS): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + blockChars);
    if (end < text.length) {
      const nl = text.lastIndexOf('\n', end);
      if (nl > i) end = nl + 1;
    }
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}
