// Which kind of file `hooklab import` was given, read from its start rather than taken from its
// name alone: an NDJSON export saved as .json was sent as a HAR ("body is not valid JSON (line
// 2 …)"), a HAR saved as .txt as NDJSON (a dozen "is required" errors).

export type ImportFormat = 'har' | 'ndjson';

/** What the name says: .har and .json are HAR, anything else NDJSON (as before the content was read). */
export const formatOfName = (file: string): ImportFormat => (/\.(har|json)$/i.test(file) ? 'har' : 'ndjson');

/** How much of the file's start is read to tell (its first key comes first in either kind). */
export const SNIFF_BYTES = 4096;

// A JSON object's first key, after white space (and a UTF-8 byte order mark).
const FIRST_KEY = /^\uFEFF?\s*\{\s*"((?:[^"\\]|\\.)*)"\s*:/;

/**
 * What the content says, or null when its start tells neither (the name decides; the server
 * says what is wrong with a file that is neither). A HAR is an object with "log" (first, as
 * browsers and hooklab write it); an export line is an object with the capture's fields, "id"
 * first, as hooklab writes it. Another first key (a HAR tool's "_comment", say) tells nothing.
 */
export function formatOfContent(head: string): ImportFormat | null {
  const key = FIRST_KEY.exec(head)?.[1];
  return key === 'log' ? 'har' : key === 'id' ? 'ndjson' : null;
}

/** The line said when name and content disagree (the content is what is used). */
export function disagreement(file: string, content: ImportFormat): string {
  return content === 'har'
    ? `${file} looks like a HAR document (one JSON object with "log"), though its name says NDJSON: importing it as HAR`
    : `${file} looks like an NDJSON export (one JSON object per line), though its name says HAR (.har/.json): importing it as NDJSON`;
}
