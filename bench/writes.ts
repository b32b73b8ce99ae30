// Benchmark 6: write amplification = bytes the hooklab process wrote to files / body bytes it
// captured. Two loads on a fresh hooklab each: 500 x 1 MiB bodies (4 in flight), and the
// ~600-byte sync_end payload at a webhook-like 4 captures/s for 10 s.
//
// The figure that counts is from /proc/<pid>/io: write_bytes - cancelled_write_bytes, the
// page-cache bytes the process dirtied (charged when a page is first dirtied, in whole 4 KiB
// pages, so no wait for writeback is needed) less those dropped before writeback (a temp file
// replaced or deleted while still dirty): what the process sends to the storage layer. It
// leaves out socket writes (unlike wchar) and file-system metadata (journal, inodes,
// directories: written by the kernel, charged to no process). Cross-checks: wchar (every
// write(), sockets included: an upper bound), the growth of DATA_DIR's file sizes (what stays:
// a lower bound), and the block device's sectors written around a `sync` (the whole machine,
// journal included: only meaningful when nothing else is writing).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Bench, Goal } from './lib/result.ts';
import { createBin, dirSize, type Hooklab, receiverUrl, startHooklab } from './lib/hooklab.ts';
import { fire, newAgent, request } from './lib/http.ts';
import { PAYLOAD, PAYLOAD_HEADERS } from './lib/payload.ts';
import { type CpuWindow, cpuWindow, deviceWrittenBytes, DISTURBED_PCT, type ProcIo, procIo } from './lib/proc.ts';
import { round } from './lib/stats.ts';
import { mb, x } from './lib/table.ts';
import { sleep, withTimeout } from './lib/time.ts';

const MiB = 1024 * 1024;
const BIG = randomBytes(MiB);
const BIG_N = 500;
const CONCURRENCY = 4;
const SLOW_RATE = 4; // captures per second
const SLOW_S = 10;
/** After the last capture: FLUSH_INTERVAL_MS (200) several times over, so everything is written. */
const AFTER_MS = 1500;
const GOAL = 1.5;

/** Bytes as KiB below 1 MiB, else MB (2^20). */
const bytes = (n: number) => (Math.abs(n) < MiB ? `${(n / 1024).toFixed(1)} KiB` : mb(n));

interface Window {
  load: string;
  captures: number;
  bodyBytes: number;
  wallMs: number;
  io: { wchar: number; writeBytes: number; cancelledWriteBytes: number; syscw: number };
  /** write_bytes - cancelled_write_bytes. */
  fileBytes: number;
  diskGrowth: number;
  /** Whole machine, around sync; null when unreadable. */
  deviceBytes: number | null;
  cpu: CpuWindow;
  non2xx: number;
}

const syncAll = () =>
  withTimeout(
    new Promise<void>((resolve, reject) => execFile('sync', (err) => (err ? reject(err) : resolve()))),
    120_000,
    'sync',
  );

const diff = (a: ProcIo, b: ProcIo) => ({
  wchar: b.wchar - a.wchar,
  writeBytes: b.writeBytes - a.writeBytes,
  cancelledWriteBytes: b.cancelledWriteBytes - a.cancelledWriteBytes,
  syscw: b.syscw - a.syscw,
});

/** Does write_bytes work here (some kernels / containers report 0)? Write 1 MiB from this process and look. */
async function accountingWorks(): Promise<boolean> {
  const f = path.join(os.tmpdir(), `hooklab-bench-io-${process.pid}`);
  const a = procIo(process.pid);
  await writeFile(f, BIG);
  const b = procIo(process.pid);
  await rm(f, { force: true });
  return !!a && !!b && b.writeBytes - a.writeBytes >= MiB;
}

/** Measure hooklab's writes while `work` runs (then AFTER_MS for the flushes). */
async function measure(hl: Hooklab, load: string, work: () => Promise<{ captures: number; bodyBytes: number; non2xx: number }>): Promise<Window> {
  await syncAll(); // start from clean page cache, so the device figure is this window's
  await sleep(300);
  const pid = hl.proc.pid;
  const io0 = procIo(pid);
  const disk0 = await dirSize(hl.dataDir);
  const dev0 = deviceWrittenBytes();
  const stop = cpuWindow(pid);
  const t0 = performance.now();
  const r = await work();
  const wallMs = performance.now() - t0;
  await sleep(AFTER_MS);
  const cpu = stop();
  const io1 = procIo(pid);
  const disk1 = await dirSize(hl.dataDir);
  await syncAll();
  const dev1 = deviceWrittenBytes();
  if (!io0 || !io1) throw new Error('/proc/<pid>/io not readable');
  const io = diff(io0, io1);
  return {
    load,
    captures: r.captures,
    bodyBytes: r.bodyBytes,
    wallMs,
    io,
    fileBytes: io.writeBytes - io.cancelledWriteBytes,
    diskGrowth: disk1 - disk0,
    deviceBytes: dev0 !== null && dev1 !== null ? dev1 - dev0 : null,
    cpu,
    non2xx: r.non2xx,
  };
}

export const writesBench: Bench = async ({ log }) => {
  const works = await accountingWorks();
  const windows: Window[] = [];
  let idle: Window | null = null;

  // 1 MiB bodies.
  {
    const hl = await startHooklab({ env: { MAX_REQUESTS_PER_BIN: '5000' } });
    try {
      const bin = await createBin(hl.base, 'writes 1 MiB');
      const url = receiverUrl(hl.base, bin.id);
      log(`  writes: ${BIG_N} x 1 MiB, ${CONCURRENCY} in flight`);
      windows.push(
        await measure(hl, `${BIG_N} x 1 MiB bodies, ${CONCURRENCY} in flight`, async () => {
          const r = await fire(() => url, BIG_N, CONCURRENCY, BIG, { 'content-type': 'application/octet-stream' });
          return { captures: r.ok, bodyBytes: r.ok * BIG.length, non2xx: r.other + r.errors };
        }),
      );
    } finally {
      await hl.cleanup();
    }
  }

  // The ~600-byte payload at a webhook-like rate (each capture in its own flush interval),
  // after an idle window of the same length on the same process (what it writes doing nothing).
  {
    const hl = await startHooklab();
    const agent = newAgent(1);
    try {
      const bin = await createBin(hl.base, 'writes 600 B');
      const url = receiverUrl(hl.base, bin.id);
      log(`  writes: idle ${SLOW_S} s, then ${SLOW_RATE} captures/s of ${PAYLOAD.length} B for ${SLOW_S} s`);
      idle = await measure(hl, `idle, ${SLOW_S} s (no capture)`, async () => {
        await sleep(SLOW_S * 1000);
        return { captures: 0, bodyBytes: 0, non2xx: 0 };
      });
      windows.push(
        await measure(hl, `${PAYLOAD.length} B sync_end, ${SLOW_RATE}/s for ${SLOW_S} s`, async () => {
          let ok = 0;
          let bad = 0;
          const t0 = performance.now();
          for (let i = 0; i < SLOW_RATE * SLOW_S; i++) {
            await sleep(t0 + (i * 1000) / SLOW_RATE - performance.now());
            const r = await request(url, { body: PAYLOAD, headers: PAYLOAD_HEADERS, agent, timeoutMs: 10_000 });
            if (r.status >= 200 && r.status < 300) ok++;
            else bad++;
          }
          await sleep(t0 + SLOW_S * 1000 - performance.now());
          return { captures: ok, bodyBytes: ok * PAYLOAD.length, non2xx: bad };
        }),
      );
    } finally {
      agent.destroy();
      await hl.cleanup();
    }
  }

  const big = windows[0];
  const small = windows[1];
  const amp = (w: Window, bytes: number | null) => (bytes === null || w.bodyBytes === 0 ? NaN : bytes / w.bodyBytes);
  const bigAmp = amp(big, big.fileBytes);
  const goals: Goal[] = [
    {
      name: 'write amplification, 1 MiB bodies (file bytes written / body bytes)',
      target: `< ${GOAL.toFixed(2)}x`,
      value: works ? `${x(bigAmp)}${big.cpu.disturbed ? ' (!)' : ''}` : `unmeasurable here: write_bytes does not count (wchar: ${x(amp(big, big.io.wchar))})`,
      pass: works && bigAmp < GOAL && big.non2xx === 0,
    },
  ];
  const row = (w: Window) => [
    w.load,
    w.captures,
    bytes(w.bodyBytes),
    works ? bytes(w.fileBytes) : '-',
    works ? x(amp(w, w.fileBytes)) : '-',
    x(amp(w, w.io.wchar)),
    x(amp(w, w.diskGrowth)),
    w.deviceBytes === null ? '-' : x(amp(w, w.deviceBytes)),
    w.captures ? `${(w.fileBytes / w.captures / 1024).toFixed(1)} KiB` : '-',
    `${Math.round(w.cpu.othersPct ?? 0)}%${w.cpu.disturbed ? ' (!)' : ''}`,
  ];
  return {
    name: 'writes',
    title: '6. Write amplification (bytes hooklab wrote to files / body bytes captured)',
    tables: [
      {
        title: '',
        columns: ['load', 'captures', 'body bytes', 'file bytes written', 'amplification', 'wchar / body', 'DATA_DIR growth / body', 'device / body', 'written per capture', 'other CPU'],
        rows: [
          ...windows.map(row),
          [idle!.load, 0, '-', works ? bytes(idle!.fileBytes) : '-', '-', `${bytes(idle!.io.wchar)} wchar`, `${bytes(idle!.diskGrowth)} growth`, idle!.deviceBytes === null ? '-' : `${bytes(idle!.deviceBytes)} device`, '-', `${Math.round(idle!.cpu.othersPct ?? 0)}%${idle!.cpu.disturbed ? ' (!)' : ''}`],
        ],
        notes: [
          'file bytes written = write_bytes - cancelled_write_bytes from /proc/<pid>/io over the window (the load, then 1.5 s for the last flushes): page-cache bytes the process dirtied, less those dropped before reaching the disk ' +
            '(a temp file replaced or deleted while still dirty). Charged when a page is first dirtied, in whole 4 KiB pages (a page rewritten while still dirty counts once, as it reaches the disk once), so it needs no wait for writeback. ' +
            `File-system metadata (journal, inodes, directories) is written by the kernel and charged to no process: not included. The goal is on this figure. write_bytes accounting checked on this machine: ${works ? 'works' : 'DOES NOT WORK (0 for a 1 MiB write)'}.`,
          'wchar / body: every byte passed to write() and friends, sockets included (HTTP answers, live events): an upper bound. DATA_DIR growth / body: change of the total file size under DATA_DIR: what stays, a lower bound.',
          `device / body: sectors written to the block device between a sync before and a sync after the window: the WHOLE MACHINE (other processes too) with the file system's journal and metadata; only meaningful when nothing else writes (other CPU low).`,
          `the 1 MiB load: ${BIG_N} bodies of random bytes, keep-alive, ${CONCURRENCY} in flight, one bin (MAX_REQUESTS_PER_BIN=5000: nothing evicted); ${big.non2xx} non-2xx. ` +
            `The small load: the ${PAYLOAD.length} B sync_end payload, one keep-alive connection, ${SLOW_RATE}/s (so each lands in its own ${200} ms flush), ${small.non2xx} non-2xx; no goal, the figure per capture is the useful one there.`,
          `other CPU = other processes during the window, in % of one core, (!) above ${DISTURBED_PCT}%.`,
        ],
      },
    ],
    goals,
    data: {
      accountingWorks: works,
      windows: windows.map((w) => ({ ...w, amplification: round(amp(w, w.fileBytes), 3), wcharRatio: round(amp(w, w.io.wchar), 3), diskGrowthRatio: round(amp(w, w.diskGrowth), 3), deviceRatio: w.deviceBytes === null ? null : round(amp(w, w.deviceBytes), 3) })),
      idle,
    },
  };
};
