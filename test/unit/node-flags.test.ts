// The server's Node flags are said in two places: server/node-flags.ts (what the tests and the
// benchmarks spawn it with) and package.json's scripts (what users run). They must agree, or
// the benchmarks would measure something other than what `npm start` runs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from '../../server/node-flags.ts';
import { SERVER_ARGS } from '../helpers/process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const scripts = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;

describe('the server\'s node flags', () => {
  it.each(['start', 'serve'])('npm run %s runs the compiled server with exactly SERVER_NODE_FLAGS', (name) => {
    const m = /\bnode((?:\s+--\S+)*)\s+dist\/server\/server\/main\.js/.exec(scripts[name]);
    expect(m, scripts[name]).not.toBeNull();
    expect(m![1].trim().split(/\s+/).filter(Boolean)).toEqual([...SERVER_NODE_FLAGS]);
  });

  it('the tests spawn it with them', () => {
    expect(SERVER_ARGS.slice(0, -1)).toEqual([...SERVER_NODE_FLAGS]);
    expect(SERVER_ARGS.at(-1)).toMatch(/dist\/server\/server\/main\.js$/);
  });
});
