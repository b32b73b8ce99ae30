// Tests that start hooklab as a process run the compiled server, as production does
// (`npm start`). Compile it once per run so they never run a stale build. Type errors are
// the type-check's business (`npm test` runs it first): tsc still emits then (exit 2).
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export default function setup() {
  const root = path.resolve(import.meta.dirname, '..');
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.server.json'], { cwd: root, encoding: 'utf8' });
  if (r.status === 2) console.warn(`tsc reported type errors (the server was compiled anyway):\n${r.stdout.slice(0, 2000)}`);
  else if (r.status !== 0) throw new Error(`compiling the server failed:\n${r.stdout}${r.stderr}`);
}
