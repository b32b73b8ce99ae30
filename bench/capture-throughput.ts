// Benchmark 1: capture throughput. autocannon (in this process) POSTs the ~600-byte sync_end
// payload at 50 connections to three servers, each a child process, one after another with
// identical settings: bare node:http, plain Express 5, and hooklab with one live Socket.IO
// subscriber on the bin. Each gets a 2 s warm-up (to a separate URL / bin), then 10 s measured.
import autocannon, { type Result } from 'autocannon';
import path from 'node:path';
import type { Bench, BenchOptions, Goal } from './lib/result.ts';
import { connectSubscriber, createBin, getBin, receiverUrl, startHooklab } from './lib/hooklab.ts';
import { PAYLOAD, PAYLOAD_HEADERS } from './lib/payload.ts';
import { cpuMs, machineCpu, type ServerProcess, spawnServer } from './lib/proc.ts';
import { round } from './lib/stats.ts';
import { x } from './lib/table.ts';
import { sleep, waitFor, withTimeout } from './lib/time.ts';

export const CONNECTIONS = 50;
export const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 2);
export const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const MAX_REQUESTS_PER_BIN = 500; // hooklab's default: see README "Zero lost requests"

export interface TargetRun {
  target: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  completed: number;
  sent: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  serverCpuPct: number | null;
  loadGenCpuPct: number;
  /** Whole machine, all cores: idle and stolen shares during the measurement. */
  machineIdlePct: number | null;
  stealPct: number | null;
  /** hooklab only: */
  liveEvents?: number;
  binRequestCount?: number;
}

function cannon(url: string, seconds: number): Promise<Result> {
  let instance: { stop(): void } | null = null;
  const run = new Promise<Result>((resolve, reject) => {
    instance = autocannon(
      { url, method: 'POST', connections: CONNECTIONS, pipelining: 1, duration: seconds, body: PAYLOAD, headers: PAYLOAD_HEADERS, timeout: 10 },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
  return withTimeout(run, (seconds + 30) * 1000, `autocannon ${url}`).catch((err) => {
    instance?.stop();
    throw err;
  });
}

async function measure(target: string, proc: ServerProcess, warmUrl: string, url: string, log: (m: string) => void): Promise<{ run: TargetRun; res: Result }> {
  log(`  ${target}: warm-up ${WARMUP_S} s`);
  if (WARMUP_S > 0) await cannon(warmUrl, WARMUP_S);
  await sleep(300);
  log(`  ${target}: measuring ${DURATION_S} s at ${CONNECTIONS} connections`);
  const cpu0 = cpuMs(proc.pid);
  const machine = machineCpu();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await cannon(url, DURATION_S);
  const wall = performance.now() - t0;
  const cpu1 = cpuMs(proc.pid);
  const self = process.cpuUsage(self0);
  const m = machine();
  const run: TargetRun = {
    target,
    reqPerSec: res.requests.average,
    p50Ms: res.latency.p50,
    p99Ms: res.latency.p99,
    completed: res.requests.total,
    sent: res.requests.sent ?? res.requests.total,
    ok2xx: res['2xx'],
    non2xx: res.non2xx,
    errors: res.errors,
    timeouts: res.timeouts,
    serverCpuPct: cpu0 !== null && cpu1 !== null ? round(((cpu1 - cpu0) / wall) * 100, 0) : null,
    loadGenCpuPct: round(((self.user + self.system) / 1000 / wall) * 100, 0),
    machineIdlePct: m?.idlePct ?? null,
    stealPct: m?.stealPct ?? null,
  };
  return { run, res };
}

export const captureThroughput: Bench = async (opts: BenchOptions) => {
  const { log } = opts;
  const runs: TargetRun[] = [];

  for (const [target, script, key] of [
    ['bare node:http', 'bench/baselines/bare-http.ts', 'bare'],
    ['Express 5', 'bench/baselines/express.ts', 'express'],
  ] as const) {
    const nodeArgs = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(opts.profileDir, `capture-${key}`)}`] : [];
    const proc = await spawnServer({ script, label: target, nodeArgs });
    try {
      const { run } = await measure(target, proc, `${proc.url}/h/warmup`, `${proc.url}/h/bench`, log);
      runs.push(run);
    } finally {
      await proc.stop();
    }
  }

  // hooklab: default cap, a live subscriber on both bins (warm-up and measured).
  const hl = await startHooklab({
    env: { MAX_REQUESTS_PER_BIN: String(MAX_REQUESTS_PER_BIN) },
    nodeArgs: opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(opts.profileDir, 'capture')}`] : [],
  });
  let settled = true;
  try {
    const warmBin = await createBin(hl.base, 'warm-up');
    const bin = await createBin(hl.base, 'measured');
    const sub = await connectSubscriber(hl.base);
    try {
      await sub.subscribe(warmBin.id);
      await sub.subscribe(bin.id);
      const { run } = await measure('hooklab', hl.proc, receiverUrl(hl.base, warmBin.id), receiverUrl(hl.base, bin.id), log);
      // Events for requests answered at the very end may still be on the wire: wait until the
      // count stops moving (bounded).
      let last = -1;
      settled = await waitFor(() => {
        const n = sub.counts.get(bin.id) ?? 0;
        const stable = n === last && n >= run.ok2xx;
        last = n;
        return stable;
      }, 15_000, 250);
      run.liveEvents = sub.counts.get(bin.id) ?? 0;
      run.binRequestCount = (await getBin(hl.base, bin.id)).requestCount;
      runs.push(run);
    } finally {
      sub.close();
    }
  } finally {
    await hl.cleanup();
  }

  const [bare, expr, hook] = runs;
  const lost = Math.max(0, hook.ok2xx - (hook.liveEvents ?? 0));
  const extra = (hook.liveEvents ?? 0) - hook.ok2xx;
  const expectedStored = Math.min(MAX_REQUESTS_PER_BIN, hook.liveEvents ?? 0);
  const goals: Goal[] = [
    { name: 'hooklab req/s vs bare node:http', target: '>= 0.50x', value: x(hook.reqPerSec / bare.reqPerSec), pass: hook.reqPerSec >= 0.5 * bare.reqPerSec },
    { name: 'hooklab req/s vs Express 5', target: '> 1.00x', value: x(hook.reqPerSec / expr.reqPerSec), pass: hook.reqPerSec > expr.reqPerSec },
    {
      name: 'zero lost requests (non-2xx + errors + 2xx without live event)',
      target: '0',
      value: String(hook.non2xx + hook.errors + lost),
      pass: hook.non2xx === 0 && hook.errors === 0 && lost === 0 && hook.binRequestCount === expectedStored,
    },
  ];

  const row = (r: TargetRun) => [
    r.target,
    Math.round(r.reqPerSec),
    x(r.reqPerSec / bare.reqPerSec),
    `${r.p50Ms} ms`,
    `${r.p99Ms} ms`,
    r.ok2xx,
    r.non2xx,
    r.errors,
    r.liveEvents ?? '-',
    r.serverCpuPct === null ? '-' : `${r.serverCpuPct}%`,
    `${r.loadGenCpuPct}%`,
    r.machineIdlePct === null ? '-' : `${r.machineIdlePct}%`,
    r.stealPct === null ? '-' : `${r.stealPct}%`,
  ];
  return {
    name: 'capture',
    title: `1. Capture throughput (POST ${PAYLOAD.length} B sync_end, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s)`,
    tables: [
      {
        title: '',
        columns: ['target', 'req/s', 'vs bare', 'p50', 'p99', '2xx', 'non-2xx', 'errors', 'live events', 'server CPU', 'loadgen CPU', 'machine idle', 'steal'],
        rows: [row(bare), row(expr), row(hook)],
        notes: [
          `hooklab: live events counted on one Socket.IO subscriber (websocket) for the measured bin: ${hook.liveEvents} for ${hook.ok2xx} 2xx answers ` +
            `(${lost} missing; ${extra >= 0 ? extra : 0} extra = requests captured but still in flight when autocannon stopped, at most ${CONNECTIONS}).`,
          `hooklab: bin requestCount ${hook.binRequestCount} (expected min(cap ${MAX_REQUESTS_PER_BIN}, captured) = ${expectedStored}); the cap is the default, so the store keeps the last ${MAX_REQUESTS_PER_BIN} and the count of captures is the live-event count.`,
          `autocannon sent ${hook.sent} requests to hooklab and got ${hook.completed} answers${settled ? '' : '; WARNING: live event count had not settled after 15 s'}.`,
          'p50 / p99: autocannon latency (it records whole milliseconds).',
          'server CPU = CPU time of the server child / wall time (100% = one core); loadgen CPU = this process (autocannon + subscriber);',
          'machine idle / steal = share of all cores idle / taken by the hypervisor for other guests during the 10 s (from /proc/stat).',
        ],
      },
    ],
    goals,
    data: { connections: CONNECTIONS, warmupS: WARMUP_S, durationS: DURATION_S, payloadBytes: PAYLOAD.length, runs, lost, extra, settled },
  };
};
