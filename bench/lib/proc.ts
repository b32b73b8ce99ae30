// Servers under test run as child processes (`node [--import tsx] <script>`), so the server and
// the load generator (this process) each get a core. Every child is registered here and
// killed on exit, on error and on Ctrl-C.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

const live = new Set<ChildProcess>();

export interface SpawnOptions {
  /** Script path relative to the repo root: a .ts file runs under tsx, a .js file as it is. */
  script: string;
  label: string;
  env?: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Give up if no "listening on <url>" line arrives within this. */
  startTimeoutMs?: number;
  /** Working directory (default: the repo root); `script` is relative to it. */
  cwd?: string;
  /** Called with every chunk the child writes, and when it arrived (performance.now()). */
  onOutput?: (text: string, stream: 'stdout' | 'stderr', at: number) => void;
}

export interface ServerProcess {
  label: string;
  url: string;
  pid: number;
  child: ChildProcess;
  /** ms from spawn() to the "listening on" line. */
  listenMs: number;
  /** Last lines of stderr (for error messages). */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after graceMs. Answers the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
}

export async function spawnServer(o: SpawnOptions): Promise<ServerProcess> {
  const t0 = performance.now();
  const loader = o.script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), ...loader, o.script], {
    cwd: o.cwd ?? ROOT,
    env: { ...process.env, NODE_ENV: 'production', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
    o.onOutput?.(s, 'stderr', performance.now());
  });
  child.stdout!.setEncoding('utf8');
  if (o.onOutput) child.stdout!.on('data', (s: string) => o.onOutput!(s, 'stdout', performance.now()));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${o.label}: no "listening on" line within ${o.startTimeoutMs ?? 30_000} ms\n${stderr}`));
    }, o.startTimeoutMs ?? 30_000);
    const onData = (s: string) => {
      out += s;
      const m = /listening on (http:\/\/[^\s"]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // keep draining
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${o.label} exited with ${code} before listening\n${stderr}`));
    });
  });
  const listenMs = performance.now() - t0;
  return {
    label: o.label,
    url,
    pid: child.pid!,
    child,
    listenMs,
    stderrTail: () => stderr,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Kill every child still running (synchronous: usable from 'exit'). */
export function killAll(signal: NodeJS.Signals = 'SIGKILL') {
  for (const c of live) {
    try {
      c.kill(signal);
    } catch {
      // already gone
    }
  }
}

let installed = false;
/** Kill children (then call onSignal, e.g. to delete temp dirs) on exit and on Ctrl-C / SIGTERM (then exit 130 / 143). */
export function installCleanup(onSignal?: () => void) {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    killAll();
    onSignal?.();
  });
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(sig, () => {
      console.error(`\n${sig}: stopping servers`);
      killAll();
      onSignal?.();
      process.exit(code);
    });
  }
}

/** Resident set size of a process in bytes (VmRSS from /proc), or null off Linux. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * CPU time a process has used, in ms: the sum of its threads' run time from
 * /proc/<pid>/task/<tid>/schedstat (nanoseconds), else user + system from /proc/<pid>/stat
 * (10 ms ticks). Null off Linux.
 */
export function cpuMs(pid: number): number | null {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // thread ended meanwhile
      }
    }
    if (ns > 0) return ns / 1e6;
  } catch {
    // no schedstat: fall through
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that closes the command name; utime and stime are 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return (ticks * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

/** CPU time of one thread (default: the main thread, whose tid is the pid), in ms; null off Linux. */
export function threadCpuMs(pid: number, tid = pid): number | null {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return null;
  }
}

/** /proc/<pid>/io of a process (all its threads), in bytes; null off Linux or when it is gone. */
export interface ProcIo {
  /** Bytes passed to write()-like calls: files, sockets, pipes alike. */
  wchar: number;
  /** Bytes of page cache this process dirtied (counted when dirtied, in whole pages): what it sends to the storage layer. */
  writeBytes: number;
  /** Dirty page-cache bytes dropped before they were written back (file truncated or deleted). */
  cancelledWriteBytes: number;
  syscw: number;
}

export function procIo(pid: number): ProcIo | null {
  try {
    const f = Object.fromEntries(
      readFileSync(`/proc/${pid}/io`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(':').map((v) => v.trim())),
    ) as Record<string, string>;
    return { wchar: Number(f.wchar), writeBytes: Number(f.write_bytes), cancelledWriteBytes: Number(f.cancelled_write_bytes), syscw: Number(f.syscw) };
  } catch {
    return null;
  }
}

/**
 * Sectors written to block devices since boot, summed over the whole-disk devices in
 * /sys/block (no partitions, loops or RAM disks), in bytes: the whole machine, file-system
 * journal and metadata included. Null when not readable.
 */
export function deviceWrittenBytes(): number | null {
  try {
    let total = 0;
    for (const d of readdirSync('/sys/block')) {
      if (/^(loop|ram|zram|sr|dm-)/.test(d)) continue;
      const f = readFileSync(`/sys/block/${d}/stat`, 'utf8').trim().split(/\s+/).map(Number);
      total += (f[6] ?? 0) * 512; // field 7: sectors written (always 512-byte units)
    }
    return total;
  } catch {
    return null;
  }
}

/**
 * TCP (IPv4) connection state from /proc/net/tcp for the socket whose local port is
 * `localPort` and remote port `remotePort`: 'ESTABLISHED', 'FIN_WAIT1', ..., or null when no
 * such socket exists; with its send and receive queues (bytes in the kernel).
 */
export function tcpSocket(localPort: number, remotePort: number): { state: string; txQueue: number; rxQueue: number } | null {
  const states = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING'];
  try {
    const lines = readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1);
    for (const l of lines) {
      const f = l.trim().split(/\s+/);
      if (f.length < 5) continue;
      const lp = parseInt(f[1].split(':')[1], 16);
      const rp = parseInt(f[2].split(':')[1], 16);
      if (lp !== localPort || rp !== remotePort) continue;
      const [tx, rx] = f[4].split(':').map((h) => parseInt(h, 16));
      return { state: states[parseInt(f[3], 16)] ?? f[3], txQueue: tx, rxQueue: rx };
    }
    return null;
  } catch {
    return null;
  }
}

// Linux's USER_HZ is 100 on every mainstream architecture.
const CLK_TCK = 100;

export interface MachineCpu {
  /** Busy share of all cores (user + nice + system + irq + softirq), 0..100. */
  busyPct: number;
  idlePct: number;
  /** Time the hypervisor gave to someone else (a noisy neighbour), 0..100. */
  stealPct: number;
}

function readStat(): number[] | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    return line.trim().split(/\s+/).slice(1).map(Number);
  } catch {
    return null;
  }
}

/** Start measuring machine-wide CPU use; call the answer to get the shares since then. */
export function machineCpu(): () => MachineCpu | null {
  const a = readStat();
  return () => {
    const b = readStat();
    if (!a || !b) return null;
    const d = b.map((v, i) => v - (a[i] ?? 0));
    // user nice system idle iowait irq softirq steal guest guest_nice
    const [user, nice, system, idle, iowait, irq, softirq, steal] = d;
    const total = user + nice + system + idle + iowait + irq + softirq + (steal ?? 0);
    if (total <= 0) return null;
    const pct = (v: number) => Math.round((v / total) * 1000) / 10;
    return { busyPct: pct(user + nice + system + irq + softirq), idlePct: pct(idle + iowait), stealPct: pct(steal ?? 0) };
  };
}

export interface CpuWindow {
  /** All in % of one core over the window. */
  serverPct: number | null;
  selfPct: number;
  othersPct: number | null;
  stealPct: number | null;
  /** Other processes + steal above DISTURBED_PCT: a neighbour may have slowed this down. */
  disturbed: boolean;
}

/** A round where other processes + steal used more than this (% of one core) is "disturbed". */
export const DISTURBED_PCT = 25;

/** Start measuring CPU use of `pid`, this process and everything else; call the answer to stop. */
export function cpuWindow(pid: number): () => CpuWindow {
  const cores = cpus().length;
  const c0 = cpuMs(pid);
  const m = machineCpu();
  const s0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const wall = performance.now() - t0;
    const c1 = cpuMs(pid);
    const s = process.cpuUsage(s0);
    const mc = m();
    const r1 = (v: number) => Math.round(v * 10) / 10;
    const serverPct = c0 !== null && c1 !== null ? r1(((c1 - c0) / wall) * 100) : null;
    const selfPct = r1(((s.user + s.system) / 1000 / wall) * 100);
    const othersPct = mc && serverPct !== null ? Math.max(0, r1(mc.busyPct * cores - serverPct - selfPct)) : null;
    const stealPct = mc ? r1(mc.stealPct * cores) : null;
    return { serverPct, selfPct, othersPct, stealPct, disturbed: (othersPct ?? 0) + (stealPct ?? 0) > DISTURBED_PCT };
  };
}
