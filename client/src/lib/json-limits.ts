// Where the JSON views stop formatting, the same for a small body (jsonView), a big one
// (prettyJsonBlocks) and the tree's "Expand all". Each pretty line is indented by its depth,
// so the pretty text of a deep body grows with depth × lines: 100 KB nested 50,000 deep made
// billions of characters and crashed the tab. Past these limits the text is shown as sent.

/** Deeper than this is not formatted (nor opened all at once in the tree). */
export const JSON_MAX_DEPTH = 500;

export const TOO_DEEP = `Nested more than ${JSON_MAX_DEPTH} levels deep`;

/**
 * The most indentation a pretty text may have: 1 MiB nested 499 deep, one number a line,
 * would get 500 million characters of it. Minified JSON of ordinary depth gets a few
 * characters of indentation per character.
 */
export function indentCharsMax(textChars: number): number {
  return Math.max(4 * 1024 * 1024, 16 * textChars);
}

export const tooLong = (max: number) => `Indenting it would take more than ${max.toLocaleString('en-US')} characters`;

/** The heading for either: the text is valid JSON (or may be), it is just not formatted. */
export const TOO_DEEP_HEADING = 'Too deeply nested to format';

/**
 * How many levels the tree's "Expand all" opens: each open level is a component inside a
 * component, rendered in one go, and Chromium's stack gave out between 300 and 400 (at 2,000
 * the tree pane went blank). Deeper levels open by hand, one at a time.
 */
export const TREE_OPEN_LEVELS = 100;
