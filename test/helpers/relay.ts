// `hooklab forward` run as a real process (the CLI from source, as `npx hooklab` runs it), its
// output collected. Each is added to `children`, for the test file to stop what a failing test
// left running.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { onTestFailed } from 'vitest';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(ROOT, 'bin/hooklab.js');

export function spawnRelay(args: string[], children: ChildProcess[]) {
  const p: ChildProcess = spawn(process.execPath, [CLI, 'forward', ...args], { cwd: ROOT, env: { ...process.env, HOOKLAB_SERVER: '', HOOKLAB_TOKEN: '' } });
  children.push(p);
  let out = '';
  let err = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (err += d));
  let code: number | null | undefined;
  const exited = new Promise<number | null>((r) => p.on('close', (c) => r((code = c))));
  // A failing test says what the relay said: a flaky failure on CI is otherwise a guess.
  onTestFailed(() => console.error(`relay ${args.join(' ')} (pid ${p.pid}) stderr:\n${err}`));
  return { pid: p.pid!, out: () => out, err: () => err, stop: () => p.kill('SIGINT'), signal: (sig: NodeJS.Signals) => p.kill(sig), exited, ended: () => code !== undefined };
}
