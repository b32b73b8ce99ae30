// Characters that change how a stranger's text reads without being seen: bidi embeddings,
// overrides and isolates, directional marks, zero-width ones. A sender's filename
// "invoice<U+202E>fdp.exe" shows as "invoiceexe.pdf". Where such text is shown they are made
// visible; in a name a file is saved under, dropped.
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

const mark = (c: string) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`;

/** The text with each such character shown as ⟨U+XXXX⟩. */
export const showInvisible = (s: string): string => s.replace(INVISIBLE, mark);

/** The text without them (for a download's name). */
export const dropInvisible = (s: string): string => s.replace(INVISIBLE, '');
