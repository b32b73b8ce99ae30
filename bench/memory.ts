// Benchmark 5: memory against stored bytes, for 1 MiB bodies. One hooklab
// (MAX_REQUESTS_PER_BIN=5000, MAX_STORE_BYTES=4 GiB, so nothing is evicted) is filled over
// HTTP with 1 MiB bodies, 4 in flight, round-robin over 4 bins, in steps up to 0.5, 1 and
// 2 GiB stored; its RSS (VmRSS) is read at each step after a settle. Then it is stopped
// cleanly and started again on that DATA_DIR: start-up time and RSS after the load, against a
// start on an empty DATA_DIR. Baseline for the fill rate: the same client and bodies to the
// bare node:http server.
import { randomBytes } from 'node:crypto';
import type { Bin } from '../shared/api.ts';
import type { Bench, Goal } from './lib/result.ts';
import { createBin, dirSize, type Hooklab, newDataDir, receiverUrl, removeDataDir, startHooklab } from './lib/hooklab.ts';
import { api, fire } from './lib/http.ts';
import { type CpuWindow, cpuWindow, DISTURBED_PCT, rssBytes, spawnServer } from './lib/proc.ts';
import { median, round } from './lib/stats.ts';
import { mb, ms, x } from './lib/table.ts';
import { sleep } from './lib/time.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const BODY = randomBytes(MiB); // MAX_BODY_BYTES default: kept whole
const HEADERS = { 'content-type': 'application/octet-stream' };
const CONCURRENCY = 4;
const BINS = 4;
const STEPS_GIB = [0, 0.5, 1, 2];
const STARTS = 3;
/** Goals, in the tables' MB (2^20 bytes). */
const RSS_MAX = 400 * MiB;
const RSS_GROWTH_MAX = 150 * MiB;
const SETTLE_MS = 2000;

interface Step {
  storedGiB: number;
  bodies: number;
  /** RSS after the settle: median of 5 readings 200 ms apart. */
  rss: number | null;
  /** Highest RSS seen (every 100 ms) while this step was being filled. */
  peakRss: number | null;
  fillMBps: number | null;
  fillMs: number | null;
  non2xx: number;
  statuses: Record<string, number>;
  cpu: CpuWindow | null;
}

async function settledRss(pid: number): Promise<number | null> {
  await sleep(SETTLE_MS);
  const r: number[] = [];
  for (let i = 0; i < 5; i++) {
    const v = rssBytes(pid);
    if (v !== null) r.push(v);
    await sleep(200);
  }
  return r.length ? median(r) : null;
}

/** Send `n` 1 MiB bodies (more if some are refused, e.g. 503, bounded), sampling the RSS peak. */
async function fill(hl: Hooklab, urls: string[], n: number, offset: number): Promise<{ ok: number; wallMs: number; non2xx: number; statuses: Record<string, number>; peak: number | null; cpu: CpuWindow }> {
  let peak = rssBytes(hl.proc.pid);
  const timer = setInterval(() => {
    const v = rssBytes(hl.proc.pid);
    if (v !== null && (peak === null || v > peak)) peak = v;
  }, 100);
  const stop = cpuWindow(hl.proc.pid);
  const t0 = performance.now();
  let ok = 0;
  let non2xx = 0;
  const statuses: Record<string, number> = {};
  try {
    for (let attempt = 0; ok < n && attempt < 5; attempt++) {
      if (attempt > 0) await sleep(1000); // refused ones (503 + Retry-After): try again
      const r = await fire((i) => urls[(offset + ok + i) % urls.length], n - ok, CONCURRENCY, BODY, HEADERS);
      ok += r.ok;
      non2xx += r.other + r.errors;
      for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    }
  } finally {
    clearInterval(timer);
  }
  if (ok < n) throw new Error(`fill: only ${ok} of ${n} bodies accepted (${JSON.stringify(statuses)})`);
  return { ok, wallMs: performance.now() - t0, non2xx, statuses, peak, cpu: stop() };
}

async function totalStored(base: string): Promise<{ requests: number; bins: number }> {
  const { bins } = await api<{ bins: Bin[] }>(base, 'GET', '/api/bins');
  return { requests: bins.reduce((t, b) => t + b.requestCount, 0), bins: bins.length };
}

/** The settings of the filled process, kept for the restarts (else the default per-bin cap of 500 would trim the bins on load). */
const ENV = { MAX_REQUESTS_PER_BIN: '5000', MAX_STORE_BYTES: String(4 * GiB) };

async function starts(dataDir: string, times: number): Promise<{ readyMs: number[]; listenMs: number[]; rss: number[]; stored: number[] }> {
  const out = { readyMs: [] as number[], listenMs: [] as number[], rss: [] as number[], stored: [] as number[] };
  for (let i = 0; i < times; i++) {
    const hl = await startHooklab({ dataDir, label: 'hooklab (restart)', env: ENV });
    try {
      out.readyMs.push(hl.readyMs);
      out.listenMs.push(hl.proc.listenMs);
      out.stored.push((await totalStored(hl.base)).requests);
      await sleep(1000);
      const r = rssBytes(hl.proc.pid);
      if (r !== null) out.rss.push(r);
    } finally {
      await hl.stop();
    }
  }
  return out;
}

export const memoryBench: Bench = async ({ log }) => {
  // Baseline: the same client and bodies to bare node:http (fill rate only).
  const bare = await spawnServer({ script: 'bench/baselines/bare-http.ts', label: 'bare node:http' });
  let bareMBps: number;
  try {
    await fire(() => `${bare.url}/h/warmup`, 64, CONCURRENCY, BODY, HEADERS);
    const r = await fire(() => `${bare.url}/h/bench`, 512, CONCURRENCY, BODY, HEADERS);
    if (r.ok !== 512) throw new Error(`bare node:http: ${r.ok} of 512 answered 2xx`);
    bareMBps = (512 * BODY.length) / 1e6 / (r.wallMs / 1000);
  } finally {
    await bare.stop();
  }

  const dataDir = await newDataDir();
  const emptyDir = await newDataDir();
  try {
    const hl = await startHooklab({ dataDir, env: ENV });
    const steps: Step[] = [];
    let stored = 0;
    let disk = 0;
    let exitCode: number | null = null;
    try {
      const bins: string[] = [];
      for (let i = 0; i < BINS; i++) bins.push((await createBin(hl.base, `memory ${i}`)).id);
      const urls = bins.map((id) => receiverUrl(hl.base, id));
      for (const gib of STEPS_GIB) {
        const target = Math.round((gib * GiB) / BODY.length);
        let f: Awaited<ReturnType<typeof fill>> | null = null;
        if (target > stored) {
          log(`  memory: filling to ${gib} GiB (${target} x 1 MiB, ${CONCURRENCY} in flight)`);
          f = await fill(hl, urls, target - stored, stored);
          stored = target;
        }
        const rss = await settledRss(hl.proc.pid);
        steps.push({
          storedGiB: gib,
          bodies: stored,
          rss,
          peakRss: f?.peak ?? null,
          fillMBps: f ? ((f.ok * BODY.length) / 1e6 / (f.wallMs / 1000)) : null,
          fillMs: f?.wallMs ?? null,
          non2xx: f?.non2xx ?? 0,
          statuses: f?.statuses ?? {},
          cpu: f?.cpu ?? null,
        });
      }
      const t = await totalStored(hl.base);
      if (t.requests !== stored) throw new Error(`hooklab holds ${t.requests} requests, ${stored} were accepted`);
    } finally {
      exitCode = await hl.stop(); // SIGTERM: everything written; the data dir stays
    }
    disk = await dirSize(dataDir);
    log(`  memory: ${STARTS} starts on the ${mb(disk)} data dir and on an empty one`);
    const full = await starts(dataDir, STARTS);
    const empty = await starts(emptyDir, STARTS);

    const at = (g: number) => steps.find((s) => s.storedGiB === g)!;
    const rss0 = at(0).rss ?? NaN;
    const rssHalf = at(0.5).rss ?? NaN;
    const rss2 = at(2).rss ?? NaN;
    const growth = rss2 - rssHalf;
    const readyFull = median(full.readyMs);
    const readyEmpty = median(empty.readyMs);
    const rssLoaded = median(full.rss);
    const rssEmpty = median(empty.rss);
    const fillRates = steps.filter((s) => s.fillMBps !== null).map((s) => s.fillMBps!);
    const meanFill = fillRates.reduce((a, b) => a + b, 0) / fillRates.length;
    const anyDisturbed = steps.some((s) => s.cpu?.disturbed);
    const goals: Goal[] = [
      { name: 'RSS with 2 GiB of 1 MiB bodies stored', target: '< 400 MB', value: `${mb(rss2)} (${x(rss2 / rss0)} of empty)`, pass: rss2 < RSS_MAX },
      {
        name: 'RSS flat with stored bytes (2 GiB minus 0.5 GiB)',
        target: '<= +150 MB',
        value: `${growth >= 0 ? '+' : ''}${mb(growth)}`,
        pass: growth <= RSS_GROWTH_MAX,
      },
    ];
    return {
      name: 'memory',
      title: `5. Memory against stored bytes (1 MiB bodies, ${CONCURRENCY} in flight, ${BINS} bins, MAX_REQUESTS_PER_BIN=5000, MAX_STORE_BYTES=4 GiB)`,
      tables: [
        {
          title: 'RSS by stored bytes (one process, filled in steps)',
          columns: ['stored', 'bodies', 'RSS (settled)', 'vs empty', 'peak RSS while filling', 'fill rate', 'vs bare', 'non-2xx', 'other CPU'],
          rows: steps.map((s) => [
            `${s.storedGiB} GiB`,
            s.bodies,
            mb(s.rss),
            x((s.rss ?? NaN) / rss0),
            mb(s.peakRss),
            s.fillMBps === null ? '-' : `${s.fillMBps.toFixed(0)} MB/s`,
            s.fillMBps === null ? '-' : x(s.fillMBps / bareMBps),
            s.non2xx,
            s.cpu ? `${Math.round(s.cpu.othersPct ?? 0)}%${s.cpu.disturbed ? ' (!)' : ''}` : '-',
          ]),
          notes: [
            `RSS = VmRSS of the hooklab process from /proc/<pid>/status, ${SETTLE_MS / 1000} s after the step, median of 5 readings 200 ms apart (MB = 2^20 bytes). Peak = highest reading, every 100 ms, during the step's fill.`,
            `bodies: ${BODY.length} random bytes each (MAX_BODY_BYTES default, kept whole), POSTed over keep-alive connections, ${CONCURRENCY} in flight, round-robin over ${BINS} bins; refused ones (non-2xx) are sent again. Nothing is evicted (4 GiB store budget).`,
            `baseline: the same client and bodies to bare node:http: ${bareMBps.toFixed(0)} MB/s (the fill rate's "vs bare"); hooklab's mean fill rate ${meanFill.toFixed(0)} MB/s = ${x(meanFill / bareMBps)}.`,
            `other CPU = other processes during the fill, in % of one core; (!) above ${DISTURBED_PCT}%${anyDisturbed ? ': that step\'s fill rate is not to be trusted' : ''}.`,
          ],
        },
        {
          title: `Restart on that DATA_DIR (${stored} x 1 MiB, stopped with SIGTERM: exit code ${exitCode})`,
          columns: ['figure', `${(stored * BODY.length / GiB).toFixed(1)} GiB stored`, 'empty DATA_DIR (baseline)', 'ratio'],
          rows: [
            ['DATA_DIR on disk', mb(disk), '-', '-'],
            [`spawn -> "listening" line (median of ${STARTS})`, ms(median(full.listenMs)), ms(median(empty.listenMs)), x(median(full.listenMs) / median(empty.listenMs))],
            [`spawn -> /api/health 200 (median of ${STARTS})`, ms(readyFull), ms(readyEmpty), x(readyFull / readyEmpty)],
            ['RSS 1 s after ready (median)', mb(rssLoaded), mb(rssEmpty), x(rssLoaded / rssEmpty)],
            ['requests loaded', full.stored.join(' / '), empty.stored.join(' / '), '-'],
          ],
          notes: [
            'start-up = spawn of `node dist/server/server/main.js` until GET /api/health answers 200 (it answers 503 while the data loads); same settings as the filled process.',
            `requests loaded must equal the ${stored} stored: ${full.stored.every((n) => n === stored) ? 'yes' : 'NO'}.`,
          ],
        },
      ],
      goals,
      data: {
        bodyBytes: BODY.length,
        concurrency: CONCURRENCY,
        bins: BINS,
        bareMBps: round(bareMBps, 1),
        steps: steps.map((s) => ({ ...s, fillMBps: s.fillMBps === null ? null : round(s.fillMBps, 1), fillMs: s.fillMs === null ? null : round(s.fillMs, 0) })),
        rssGrowthHalfTo2GiB: growth,
        diskBytes: disk,
        stopExitCode: exitCode,
        restart: { full, empty },
      },
    };
  } finally {
    await removeDataDir(dataDir);
    await removeDataDir(emptyDir);
  }
};
