// A config file that does not parse, or gives something twice or leaves something out, is told
// in words, by where, quoting none of its text (it holds secrets); and nothing of it is applied.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../server/config-file.ts';
import { DEFAULT_RESPONSE_LIMITS } from '../../shared/schema/response.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hooklab-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function problemOf(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  const e = await loadConfigFile(file, DEFAULT_RESPONSE_LIMITS, {}).then(
    () => null,
    (err: Error) => err,
  );
  expect(e, name).toBeInstanceOf(Error);
  return e!.message.replace(file, 'FILE');
}

describe('config file problems, in words', () => {
  it.each([
    ['a quoted string not closed', 'bins:\n  - id: "whsec_SECRET\n', 'line 3, column 1: a quoted string is not closed'],
    ['a tab for indentation', 'bins:\n\t- id: whsec_SECRET\n', 'line 2, column 1: a tab used for indentation (YAML takes spaces only)'],
    ['a key given twice', 'bins: []\nbins: [whsec_SECRET]\n', 'line 2, column 1: a key given twice'],
    ['entries at different columns', 'bins:\n  a: whsec_SECRET\n b: 1\n', 'line 3, column 1: bad indentation (entries of one list or map must start at the same column)'],
    ['a list entry out of line', 'bins:\n  - id: a\n    name: whsec_SECRET\n   x: 1\n', 'line 4, column 1: a list item without its "-"'],
    ['a [ not closed', 'bins: [1, whsec_SECRET\nwebhooks: []\n', 'line 2, column 1: a [ or { that is not closed (or is not indented enough)'],
    ['a bad escape', 'bins: "whsec_SECRET\\q"\n', 'a bad escape (\\) in a double-quoted string'],
    ['two documents', 'bins: []\n---\nwebhooks: [whsec_SECRET]\n', 'line 2, column 1: more than one document (a second "---"); a config file is one'],
  ])('YAML, %s', async (_what, text, words) => {
    const m = await problemOf('c.yaml', text);
    expect(m).toContain(`Config file FILE is not valid YAML: `);
    expect(m).toContain(words);
    expect(m).not.toMatch(/[A-Z]+_[A-Z_]+/);
    expect(m).not.toContain('SECRET');
  });

  it('JSON refuses a key given twice, by its path, line and column (JSON.parse kept the last one silently)', async () => {
    const text = '{\n  "bins": [\n    { "id": "first-bin-0123456789", "name": "a",\n      "name": "b" }\n  ],\n  "webhooks": []\n}\n';
    expect(await problemOf('d.json', text)).toBe(
      'Config file FILE gives a key twice: bins[0].name at line 4, column 7 (JSON would keep the last one without a word); nothing was applied',
    );
    expect(await problemOf('e.json', '{"webhooks": [], "bins": [], "webhooks": []}')).toMatch(/gives a key twice: webhooks at line 1, column 30 /);
    // Alike keys in different objects, and keys that only look alike inside strings, are fine.
    const ok = JSON.stringify({ bins: [{ id: 'one-bin-0123456789', name: '"name": "x", "name"' }, { id: 'two-bin-0123456789', name: 'b' }] });
    await writeFile(path.join(dir, 'ok.json'), ok);
    expect((await loadConfigFile(path.join(dir, 'ok.json'), DEFAULT_RESPONSE_LIMITS, {})).bins).toHaveLength(2);
  });

  it('a field left out "is required" (not "must be a string"); a shape error says nothing was applied', async () => {
    const m = await problemOf('f.json', JSON.stringify({ bins: [{ name: 'no id' }], webhooks: [{ url: 'http://example.com/x' }, { id: 7, url: 'http://example.com/y' }] }));
    expect(m).toBe('Invalid config file f.json (FILE), nothing was applied:\n  bins[0].id: is required\n  webhooks[0].id: is required\n  webhooks[1].id: must be a string');
  });
});
