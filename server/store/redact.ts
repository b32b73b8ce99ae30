// A bin id is its receiver URL's secret, and bins/<id>/ is where its files are: an error about
// a data file names the id in its path. What goes to the log or /api/health says which file
// of a bin it was ("DATA_DIR/bins/<bin>/00000002.body"), never which bin.
import path from 'node:path';

export const BIN_PLACEHOLDER = '<bin>';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `text` with the entry right under DATA_DIR/bins/ (a bin's directory, <id>.json, .<id>.json.tmp) replaced by <bin>. */
export function redactDataPaths(text: string, dataDir: string): string {
  let out = text;
  for (const dir of new Set([dataDir, path.resolve(dataDir)])) {
    const bins = escapeRe(path.join(dir, 'bins'));
    out = out.replace(new RegExp(`(${bins}[\\\\/]\\.?)[A-Za-z0-9_-]+`, 'g'), `$1${BIN_PLACEHOLDER}`);
  }
  return out;
}

/** An error as text for the log ("Error: ENOENT: … open '…/bins/<bin>/00000002.body'"), or its stack. */
export function errorText(err: unknown, dataDir: string, withStack = false): string {
  const text = err instanceof Error ? (withStack && err.stack) || String(err) : String(err);
  return redactDataPaths(text, dataDir);
}
