// Where hooklab's own files are, whether it runs from source (server/*.ts under tsx) or
// compiled (dist/server/server/*.js): the project root is the nearest folder up with a
// package.json.
import { existsSync } from 'node:fs';
import path from 'node:path';

export function projectRoot(from: string = import.meta.dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

/** The built UI (npm run build). */
export const clientDir = () => path.join(projectRoot(), 'dist', 'client');
