// `npm pack` makes a package that installs the `hooklab` command and the server without the
// dev dependencies: the compiled JavaScript and the built UI go in, the TypeScript and the
// tests stay out (package.json `files`; `prepack` builds first). The suite builds before it
// runs, so the listing here is taken without running prepack again.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the npm package', () => {
  it('holds the command, the compiled server and CLI, the forwarding thread and the UI; no sources or tests', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const files = new Set((JSON.parse(stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path));
    for (const f of ['bin/hooklab.js', 'dist/server/server/main.js', 'dist/server/server/cli/main.js', 'dist/server/server/forward/forward-thread.js', 'dist/client/index.html', 'package.json']) {
      expect(files.has(f), f).toBe(true);
    }
    const stray = [...files].filter((f) => /^(server|client|shared|test|bench)\//.test(f) || f.endsWith('.ts'));
    expect(stray).toEqual([]);
  });
});
