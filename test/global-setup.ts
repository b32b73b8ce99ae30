// Tests that start hooklab as a real process run the compiled server, as production does
// (`npm start`). Compile it once per run so they never run a stale build.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup() {
  const root = path.resolve(import.meta.dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.server.json'], { cwd: root, stdio: 'inherit' });
}
