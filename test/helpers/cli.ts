// The hooklab CLI as a process (bin/hooklab.js), against a server: what it printed and how it ended.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const CLI = path.resolve(import.meta.dirname, '../../bin/hooklab.js');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From start to exit. */
  ms: number;
}

/** Started, for a test that acts on it while it runs (a signal, output so far); `done` once it exits. */
export function spawnCli(base: string, args: string[], env: Record<string, string> = {}): { proc: ChildProcess; done: Promise<CliRun>; out(): string; err(): string } {
  const t0 = Date.now();
  const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, HOOKLAB_SERVER: base, ...env } });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d) => (stdout += d));
  proc.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliRun>((resolve) => proc.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 })));
  return { proc, done, out: () => stdout, err: () => stderr };
}

/** Run to its end. */
export const runCli = (base: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> => spawnCli(base, args, env).done;
