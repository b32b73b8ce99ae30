// hooklab as a real child process, started the way `npm start` starts it (minus the build).
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { SERVER_NODE_FLAGS } from '../../server/node-flags.ts';

export interface ServerProcess {
  base: string;
  proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const ROOT = path.resolve(import.meta.dirname, '../..');
/** The compiled server, as `npm start` runs it (test/global-setup.ts builds it). */
export const SERVER_JS = path.join(ROOT, 'dist/server/server/main.js');
/** How to run it: `node` with these arguments, the flags `npm start` gives it first. */
export const SERVER_ARGS: readonly string[] = [...SERVER_NODE_FLAGS, SERVER_JS];

/** Spawn; resolve once it prints its URL, or reject with its output if it exits first. */
export function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const proc = spawn(process.execPath, SERVER_ARGS, {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': it waits until stdout and stderr are fully read.
    proc.on('close', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /hooklab ready on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve({ base: m[1], proc, output: () => out, exited });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => reject(new Error(`server exited (${code ?? signal}) before listening:\n${out}`)));
  });
}

/** Run the server expecting it to fail at start; answers its exit code and output. */
export async function startExpectingFailure(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  try {
    const s = await spawnServer(env);
    s.proc.kill('SIGKILL');
    throw new Error(`expected a start-up failure, but it listened on ${s.base}`);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /server exited \((\S+)\) before listening:\n([\s\S]*)$/.exec(msg);
    if (!m) throw e;
    return { code: Number(m[1]), output: m[2] };
  }
}

/** Run `fn` against a server started with `env`, then stop it (SIGTERM) and wait for its end. */
export async function withServer<T>(env: Record<string, string>, fn: (base: string, output: () => string) => Promise<T>): Promise<T> {
  const p = await spawnServer(env);
  try {
    return await fn(p.base, p.output);
  } finally {
    p.proc.kill('SIGTERM');
    await p.exited;
  }
}
