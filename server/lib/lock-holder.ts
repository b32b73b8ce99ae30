// Who holds a lock file (DATA_DIR's, a relay's cursor's), and whether that process still runs:
// a lock left by a process that was killed is stale and may be taken over. A pid alone is not
// enough: after a reboot or a while, another process may have it (Linux tells by the boot id
// and the process's start time).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  /** Unique per hold: only the holder's release removes the file. */
  token: string;
  /** Linux: this boot, and the process's start time since boot (tells a reused pid from the holder). */
  bootId?: string;
  procStart?: string;
}

function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The fields of /proc/<pid>/stat after the command name (the state is [0]), or undefined. */
function statFields(pid: number): string[] | undefined {
  const s = readProc(`/proc/${pid}/stat`);
  return s ? s.slice(s.lastIndexOf(')') + 2).split(' ') : undefined;
}

/** Field 22 of /proc/<pid>/stat: when the process started (ticks since boot). */
function procStart(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** This process, as a new hold's holder. */
export function thisProcess(): LockHolder {
  return {
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
    bootId: readProc('/proc/sys/kernel/random/boot_id'),
    procStart: procStart(process.pid),
  };
}

/** A lock file's holder, or null when it names none (being written this instant, or cut short). */
export function parseHolder(text: string): LockHolder | null {
  try {
    const d = JSON.parse(text) as LockHolder;
    return Number.isInteger(d?.pid) && d.pid > 0 && typeof d.host === 'string' && typeof d.token === 'string' ? d : null;
  } catch {
    return null;
  }
}

/** For a holder on this host: why it no longer runs (its lock is stale), or null when it may. */
export function staleOnThisHost(h: LockHolder): string | null {
  if (h.pid === process.pid) return 'it names this process, which does not hold it (a restart that got the same pid)';
  const boot = readProc('/proc/sys/kernel/random/boot_id');
  if (h.bootId && boot && h.bootId !== boot) return 'the machine was restarted since';
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'that process is not running';
    // EPERM: it runs (as another user).
  }
  const stat = statFields(h.pid);
  const start = h.procStart ? stat?.[19] : undefined;
  if (start && start !== h.procStart) return 'that pid is now another process';
  // Killed, but its parent has not reaped it yet (under an init that does not, for long): it
  // still answers kill(0), yet runs no more.
  if (stat?.[0] === 'Z' || stat?.[0] === 'X') return 'that process has exited (its parent has not reaped it yet)';
  return null;
}

/** Whether `file` is still the lock held with `token` (a lock taken over from us is the other's). */
export function heldWith(file: string, token: string): boolean {
  try {
    return parseHolder(readFileSync(file, 'utf8'))?.token === token;
  } catch {
    return false;
  }
}
