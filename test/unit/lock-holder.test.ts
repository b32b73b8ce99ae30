// Whether a lock file's holder on this machine still runs (DATA_DIR's lock, a relay's cursor
// lock): a process that was killed but not yet reaped by its parent (a zombie, under an init
// that does not reap) still answers kill(pid, 0) and keeps its start time, yet runs no more:
// its lock is stale (before, a restart on the same DATA_DIR was refused as "in use"). Real
// processes: a shell whose background child exits while the shell, exec'd into sleep, never
// reaps it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { type LockHolder, staleOnThisHost } from '../../server/lib/lock-holder.ts';
import { until } from '../helpers/until.ts';

const stat = (pid: number) => {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
};
const holder = (pid: number): LockHolder => ({
  pid,
  host: os.hostname(),
  startedAt: new Date().toISOString(),
  token: 't',
  bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
  procStart: stat(pid)[19],
});

const parents: ReturnType<typeof spawn>[] = [];
afterAll(() => {
  for (const p of parents) p.kill('SIGKILL');
});

describe('a lock holder on this machine', () => {
  it('running: not stale; exited but not reaped (a zombie): stale, saying so', async () => {
    // The child sleeps until told (SIGTERM); its parent then never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    parents.push(parent);
    const pid = await new Promise<number>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    const h = holder(pid);
    expect(staleOnThisHost(h)).toBeNull();
    // Killed while the shell still ran, the child could be reaped by it (seen once in a full run).
    await until(() => readFileSync(`/proc/${parent.pid}/comm`, 'utf8').trim() === 'sleep', 'the shell to be sleep', 10_000);
    process.kill(pid, 'SIGTERM');
    await until(() => stat(pid)[0] === 'Z', 'the child to be a zombie', 10_000);
    expect(() => process.kill(pid, 0)).not.toThrow(); // what the check relied on alone
    expect(staleOnThisHost(h)).toBe('that process has exited (its parent has not reaped it yet)');
  });

  it('gone: stale', async () => {
    const child = spawn('sleep', ['30']);
    const h = holder(child.pid!);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await until(() => {
      try {
        readFileSync(`/proc/${h.pid}/stat`);
        return false;
      } catch {
        return true;
      }
    }, 'the child reaped', 10_000);
    expect(staleOnThisHost(h)).toBe('that process is not running');
  });
});
