#!/usr/bin/env node
// The `hooklab` command (`npx hooklab …` in a checkout, or installed). In a checkout with its
// dev dependencies it runs the TypeScript source through tsx, so it is never a stale build;
// otherwise the compiled CLI (`npm run build`).
import { existsSync } from 'node:fs';

const source = new URL('../server/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/server/server/cli/main.js', import.meta.url);

let tsx = null;
if (existsSync(source)) {
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    // no dev dependencies: use the build
  }
}
if (tsx) {
  tsx.register();
  await import(source.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  console.error('hooklab: not built; run `npm run build` (or `npm ci` for the dev dependencies)');
  process.exit(2);
}
