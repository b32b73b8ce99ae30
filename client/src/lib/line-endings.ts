// Edit & replay of a text body: a textarea's value has LF for every line break (the browser
// turns CRLF and a lone CR into LF), so the edited text alone would send other bytes than the
// capture even where the user changed nothing (a multipart body, a signed payload). Pure: puts
// the capture's own line endings back.

export type LineEnding = '\r\n' | '\n' | '\r';

/** How many line breaks of each kind `text` has. */
export function lineEndings(text: string): Record<'crlf' | 'lf' | 'cr', number> {
  const n = { crlf: 0, lf: 0, cr: 0 };
  for (const m of text.matchAll(/\r\n|\r|\n/g)) n[m[0] === '\r\n' ? 'crlf' : m[0] === '\n' ? 'lf' : 'cr']++;
  return n;
}

/** The line break a new line gets: the one the capture uses most (CRLF on a tie with LF), else LF. */
export function mainEnding(text: string): LineEnding {
  const n = lineEndings(text);
  if (n.crlf === 0 && n.lf === 0 && n.cr === 0) return '\n';
  if (n.crlf >= n.lf && n.crlf >= n.cr) return '\r\n';
  return n.lf >= n.cr ? '\n' : '\r';
}

/** What a textarea makes of `text`: every CRLF and lone CR an LF. */
export const asTextarea = (text: string) => text.replace(/\r\n?/g, '\n');

/**
 * The body to send for `edited` (a textarea's value) of the captured text `captured`: null when
 * it is the capture as the textarea showed it (sent as captured, byte for byte). Otherwise the
 * text before and after the edited stretch is taken from the capture as it was (each line break
 * as it came), and the line breaks in the edited stretch get the capture's main ending
 * (mainEnding): with a capture all CRLF, every line break is CRLF.
 */
export function textBodyEdit(edited: string, captured: string): string | null {
  const shown = asTextarea(captured);
  if (edited === shown) return null;
  // Where each character of `shown` starts in `captured` (a "\n" may stand for "\r\n").
  const at: number[] = [];
  for (let i = 0; i < captured.length; i++) {
    at.push(i);
    if (captured[i] === '\r' && captured[i + 1] === '\n') i++;
  }
  at.push(captured.length);
  let pre = 0;
  const most = Math.min(edited.length, shown.length);
  while (pre < most && edited[pre] === shown[pre]) pre++;
  let post = 0;
  while (post < most - pre && edited[edited.length - 1 - post] === shown[shown.length - 1 - post]) post++;
  const middle = edited.slice(pre, edited.length - post).replace(/\n/g, mainEnding(captured));
  return captured.slice(0, at[pre]) + middle + captured.slice(at[shown.length - post]);
}
