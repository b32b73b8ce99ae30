// What every start loads: the modules reachable from server/main.ts by static imports. The
// Redis client and adapter (~70-120 ms to load here) and the YAML parser are loaded only when
// used (STORE=redis, a YAML config file), by dynamic imports.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Packages and project files reachable from `entry` through static, non-type imports. */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const src = readFileSync(file, 'utf8');
    // `import x from '…'`, `import { a, type B } from '…'`, `import '…'`, `export … from '…'`; not `import type`.
    for (const m of src.matchAll(/^(?:import|export)\s+(?!type\s)(?:[^;'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
      const spec = m[1];
      if (spec.startsWith('.')) queue.push(path.resolve(path.dirname(file), spec));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  }
  return { files, packages };
}

describe('start-up imports', () => {
  const { files, packages } = staticGraph(path.join(ROOT, 'server/main.ts'));

  it('do not load the Redis client, its Socket.IO adapter or the YAML parser', () => {
    expect(packages).not.toContain('ioredis');
    expect(packages).not.toContain('@socket.io/redis-streams-adapter');
    expect(packages).not.toContain('yaml');
    expect([...files].map((f) => path.relative(ROOT, f)).filter((f) => /\/(redis-store|redis-cluster|capture-feed|connection)\.ts$/.test(f))).toEqual([]);
  });

  it('the walk itself finds what main.ts does load (so the check above can fail)', () => {
    expect(packages).toContain('express');
    expect(packages).toContain('socket.io');
    expect(files).toContain(path.join(ROOT, 'server/app.ts'));
    expect(files).toContain(path.join(ROOT, 'server/store/lowdb.ts'));
    // And the Redis modules are reachable from the Redis store itself.
    expect(staticGraph(path.join(ROOT, 'server/store/redis/redis-store.ts')).packages).toContain('ioredis');
  });
});
