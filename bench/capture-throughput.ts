// Benchmark 1: capture throughput. autocannon (in this process) POSTs the ~600-byte sync_end
// payload at 50 connections to four servers, each a child process, one after another with
// identical settings: bare node:http, plain Express 5, hooklab with one live Socket.IO
// subscriber on the bin, and the same for hooklab at an older revision (BENCH_BASELINE_REV,
// default 9a91e4c: the code before the segment-file storage), run from a `git archive` export
// as that revision was run (`node --import tsx server/main.ts`). Each gets a 2 s warm-up (to a
// separate URL / bin), then 10 s measured; the four are run BENCH_ROUNDS times (default 3),
// interleaved, and the best undisturbed round counts. hooklab now runs with the flags `npm start`
// gives it (server/node-flags.ts); the baselines, 9a91e4c included, with Node's defaults.
import { SERVER_NODE_FLAGS } from '../server/node-flags.ts';
import os from 'node:os';
import path from 'node:path';
import autocannon, { type Options, type Result } from 'autocannon';
import type { Bench, BenchOptions, Goal } from './lib/result.ts';
import { BASELINE_REV, type BaselineTree, prepareBaseline } from './lib/baseline-rev.ts';
import { connectSubscriber, createBin, getBin, type Hooklab, receiverUrl, startHooklab } from './lib/hooklab.ts';
import { monotonicUs } from './lib/profile.ts';
import { alternate, runSlice, SLICE_PAIRS, SLICE_S, type Sliced, slicedData, slicedText } from './lib/slices.ts';
import { PAYLOAD, PAYLOAD_HEADERS } from './lib/payload.ts';
import { cpuMs, DISTURBED_PCT, machineCpu, ROOT, type ServerProcess, spawnServer } from './lib/proc.ts';
import { round } from './lib/stats.ts';
import { x } from './lib/table.ts';
import { sleep, waitFor, withTimeout } from './lib/time.ts';
import { median, pairedGoal, pairedRatios } from './lib/rounds.ts';

export const CONNECTIONS = 50;
export const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 2);
export const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
export const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const CORES = os.cpus().length;
/** At most this many extra rounds for targets that had no undisturbed round. */
const EXTRA_ROUNDS = 3;
const MAX_REQUESTS_PER_BIN = 500; // hooklab's default: see README "Zero lost requests"

export interface TargetRun {
  round: number;
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
  /** In % of one core. */
  serverCpuPct: number | null;
  /** Server CPU time per answered request, in microseconds. */
  cpuUsPerReq: number | null;
  loadGenCpuPct: number;
  /** Every other process on the machine, in % of one core. */
  othersCpuPct: number | null;
  /** Stolen by the hypervisor, in % of one core. */
  stealPct: number | null;
  /** hooklab only: */
  liveEvents?: number;
  binRequestCount?: number;
  eventsSettled?: boolean;
}

/**
 * autocannon at the benchmark's settings (POST the payload, CONNECTIONS connections, no
 * pipelining) for `seconds`; `extra` overrides options (the forward and verify benchmarks).
 */
export function cannon(url: string, seconds: number, extra: Partial<Options> = {}): Promise<Result> {
  let instance: { stop(): void } | null = null;
  const run = new Promise<Result>((resolve, reject) => {
    instance = autocannon(
      { url, method: 'POST', connections: CONNECTIONS, pipelining: 1, duration: seconds, body: PAYLOAD, headers: PAYLOAD_HEADERS, timeout: 10, ...extra },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
  return withTimeout(run, (seconds + 30) * 1000, `autocannon ${url}`).catch((err) => {
    instance?.stop();
    throw err;
  });
}

async function measure(target: string, round: number, proc: ServerProcess, warmUrl: string, url: string, log: (m: string) => void): Promise<TargetRun> {
  log(`  round ${round}, ${target}: warm-up ${WARMUP_S} s, then ${DURATION_S} s at ${CONNECTIONS} connections`);
  if (WARMUP_S > 0) await cannon(warmUrl, WARMUP_S);
  await sleep(300);
  const cpu0 = cpuMs(proc.pid);
  const machine = machineCpu();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await cannon(url, DURATION_S);
  const wall = performance.now() - t0;
  const cpu1 = cpuMs(proc.pid);
  const self = process.cpuUsage(self0);
  const m = machine();
  const serverMs = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
  const loadGenCpuPct = round1(((self.user + self.system) / 1000 / wall) * 100);
  const serverCpuPct = serverMs === null ? null : round1((serverMs / wall) * 100);
  return {
    round,
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
    serverCpuPct,
    cpuUsPerReq: serverMs === null || res.requests.total === 0 ? null : round1((serverMs * 1000) / res.requests.total),
    loadGenCpuPct,
    othersCpuPct: m && serverCpuPct !== null ? Math.max(0, round1(m.busyPct * CORES - serverCpuPct - loadGenCpuPct)) : null,
    stealPct: m ? round1(m.stealPct * CORES) : null,
  };
}

const round1 = (v: number) => round(v, 1);

async function runBaseline(target: string, script: string, key: string, round: number, opts: BenchOptions): Promise<TargetRun> {
  const nodeArgs = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(opts.profileDir, `capture-${key}`)}`] : [];
  const proc = await spawnServer({ script, label: target, nodeArgs });
  try {
    return await measure(target, round, proc, `${proc.url}/h/warmup`, `${proc.url}/h/bench`, opts.log);
  } finally {
    await proc.stop();
  }
}

/**
 * hooklab: fresh DATA_DIR, default cap, one live subscriber on both bins (warm-up and
 * measured). `tree` set: the older revision from its exported tree, under tsx.
 */
async function runHooklab(target: string, round: number, opts: BenchOptions, tree: BaselineTree | null = null): Promise<TargetRun> {
  const hl = await startHooklab({
    label: target,
    env: { MAX_REQUESTS_PER_BIN: String(MAX_REQUESTS_PER_BIN) },
    nodeArgs: opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(opts.profileDir, tree ? `capture-${tree.short}` : 'capture')}`] : [],
    ...(tree ? { script: 'server/main.ts', cwd: tree.dir } : {}),
  });
  try {
    const warmBin = await createBin(hl.base, 'warm-up');
    const bin = await createBin(hl.base, 'measured');
    const sub = await connectSubscriber(hl.base);
    try {
      await sub.subscribe(warmBin.id);
      await sub.subscribe(bin.id);
      const run = await measure(target, round, hl.proc, receiverUrl(hl.base, warmBin.id), receiverUrl(hl.base, bin.id), opts.log);
      // Events for requests answered at the very end may still be on the wire: wait until the
      // count stops moving (bounded).
      let last = -1;
      run.eventsSettled = await waitFor(() => {
        const n = sub.counts.get(bin.id) ?? 0;
        const stable = n === last && n >= run.ok2xx;
        last = n;
        return stable;
      }, 15_000, 250);
      run.liveEvents = sub.counts.get(bin.id) ?? 0;
      run.binRequestCount = (await getBin(hl.base, bin.id)).requestCount;
      return run;
    } finally {
      sub.close();
    }
  } finally {
    await hl.cleanup();
  }
}

/**
 * Informational: hooklab now and the older revision both running at once (each a fresh
 * process, one live subscriber), loaded by turns in SLICE_S slices (lib/slices.ts): the other
 * sits idle meanwhile, so both see the same machine state. A slice lasts until its last
 * capture's live event arrived.
 */
async function slicedVsOld(tree: BaselineTree, opts: BenchOptions): Promise<Sliced> {
  const start = (t: BaselineTree | null) =>
    startHooklab({ label: t ? `hooklab ${t.short} (sliced)` : 'hooklab (sliced)', env: { MAX_REQUESTS_PER_BIN: String(MAX_REQUESTS_PER_BIN) }, ...(t ? { script: 'server/main.ts', cwd: t.dir } : {}) });
  const now = await start(null);
  try {
    const before = await start(tree);
    try {
      const side = async (hl: Hooklab) => {
        const bin = await createBin(hl.base, 'measured');
        const sub = await connectSubscriber(hl.base);
        await sub.subscribe(bin.id);
        let lastUs = 0;
        sub.onRequest = () => {
          lastUs = monotonicUs();
        };
        const slice = () =>
          runSlice({
            count: () => sub.counts.get(bin.id) ?? 0,
            load: async () => (await cannon(receiverUrl(hl.base, bin.id), SLICE_S))['2xx'],
            settled: (n, answered) => n >= answered,
            lastUs: () => lastUs,
            boundMs: 15_000,
          });
        return { sub, slice };
      };
      const a = await side(before);
      const b = await side(now);
      try {
        opts.log(`  sliced: hooklab now and ${tree.short} running side by side, loaded by turns, ${SLICE_PAIRS} pairs of ${SLICE_S} s slices (after a warm-up slice each)`);
        await a.slice();
        await b.slice();
        return await alternate(a.slice, b.slice);
      } finally {
        a.sub.close();
        b.sub.close();
      }
    } finally {
      await before.cleanup();
    }
  } finally {
    await now.cleanup();
  }
}

const disturbed = (r: TargetRun) => (r.othersCpuPct ?? 0) + (r.stealPct ?? 0) > DISTURBED_PCT;

/** The fastest undisturbed round of a target; the fastest of all when every round was disturbed. */
function best(runs: TargetRun[], target: string): TargetRun {
  const mine = runs.filter((r) => r.target === target);
  const quiet = mine.filter((r) => !disturbed(r));
  return (quiet.length ? quiet : mine).reduce((a, b) => (b.reqPerSec > a.reqPerSec ? b : a));
}

const pct = (v: number | null) => (v === null ? '-' : `${Math.round(v)}%`);
const us = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${v.toFixed(1)} us`);

/** Spread of a target's undisturbed rounds: (fastest - slowest) / fastest; null with fewer than 2. */
function spread(runs: TargetRun[], target: string): number | null {
  const quiet = runs.filter((r) => r.target === target && !disturbed(r)).map((r) => r.reqPerSec);
  return quiet.length < 2 ? null : (Math.max(...quiet) - Math.min(...quiet)) / Math.max(...quiet);
}

/** "min / median / max" of paired ratios, or '-'. */
function pairedText(r: number[]): string {
  if (!r.length) return '-';
  return `${x(r[0])} / ${x(median(r))} / ${x(r[r.length - 1])}`;
}

/** hooklab now must keep at least this share of the older revision's req/s (5 % noise allowance). */
export const VS_BASELINE_REV = 0.95;

export const captureThroughput: Bench = async (opts: BenchOptions) => {
  const runs: TargetRun[] = [];
  let tree: BaselineTree | null = null;
  let treeError: string | null = null;
  try {
    tree = await prepareBaseline(BASELINE_REV, opts.log);
  } catch (err) {
    treeError = err instanceof Error ? err.message : String(err);
    opts.log(`  no baseline revision: ${treeError}`);
  }
  const OLD = tree ? `hooklab ${tree.short}` : `hooklab ${BASELINE_REV}`;
  const targets: [string, (r: number) => Promise<TargetRun>][] = [
    ['bare node:http', (r) => runBaseline('bare node:http', 'bench/baselines/bare-http.ts', 'bare', r, opts)],
    ['Express 5', (r) => runBaseline('Express 5', 'bench/baselines/express.ts', 'express', r, opts)],
    ['hooklab', (r) => runHooklab('hooklab', r, opts)],
    ...(tree ? [[OLD, (r: number) => runHooklab(OLD, r, opts, tree)] as [string, (r: number) => Promise<TargetRun>]] : []),
  ];
  for (let r = 1; r <= ROUNDS; r++) for (const [, run] of targets) runs.push(await run(r));
  // A target with no undisturbed round gets extra rounds (bounded), so that the verdict
  // compares quiet rounds with quiet rounds.
  for (let r = ROUNDS + 1; r <= ROUNDS + EXTRA_ROUNDS; r++) {
    const missing = targets.filter(([t]) => !runs.some((x) => x.target === t && !disturbed(x)));
    if (missing.length === 0) break;
    opts.log(`  no undisturbed round yet for ${missing.map(([t]) => t).join(', ')}: extra round ${r}`);
    for (const [, run] of missing) runs.push(await run(r));
  }

  const sliced = tree ? await slicedVsOld(tree, opts) : null;
  const bare = best(runs, 'bare node:http');
  const expr = best(runs, 'Express 5');
  const hook = best(runs, 'hooklab');
  const old = tree ? best(runs, OLD) : null;
  const hookRuns = runs.filter((r) => r.target === 'hooklab');
  const oldRuns = runs.filter((r) => r.target === OLD);
  // Every hooklab round must lose nothing, not just the best one.
  const losses = (rs: TargetRun[]) => {
    let lost = 0;
    let extra = 0;
    let failures = 0;
    let storedOk = true;
    for (const h of rs) {
      lost += Math.max(0, h.ok2xx - (h.liveEvents ?? 0));
      extra += Math.max(0, (h.liveEvents ?? 0) - h.ok2xx);
      failures += h.non2xx + h.errors;
      if (h.binRequestCount !== Math.min(MAX_REQUESTS_PER_BIN, h.liveEvents ?? 0)) storedOk = false;
    }
    return { lost, extra, failures, storedOk, settled: rs.every((h) => h.eventsSettled) };
  };
  const { lost, extra, failures, storedOk } = losses(hookRuns);
  const oldLoss = losses(oldRuns);
  const sumOk = hookRuns.reduce((t, h) => t + h.ok2xx, 0);
  const sumEvents = hookRuns.reduce((t, h) => t + (h.liveEvents ?? 0), 0);
  const cpuRatio = hook.cpuUsPerReq !== null && bare.cpuUsPerReq !== null ? hook.cpuUsPerReq / bare.cpuUsPerReq : NaN;
  // When a compared round was disturbed, req/s alone cannot be trusted: the goal then also has
  // to hold on CPU time per request (what each server would do if it had a core to itself).
  const noisy = (...rs: TargetRun[]) => rs.some(disturbed);
  const cpuBound = (a: TargetRun, b: TargetRun) => (a.cpuUsPerReq !== null && b.cpuUsPerReq !== null ? b.cpuUsPerReq / a.cpuUsPerReq : NaN);
  const vsBare = hook.reqPerSec / bare.reqPerSec;
  const vsExpr = hook.reqPerSec / expr.reqPerSec;
  // Against the older revision (the same program, before and after): the median of the rounds
  // side by side (see pairedGoal).
  const oldGoal = old ? pairedGoal(hookRuns, oldRuns, (r) => r.reqPerSec, (r) => r.cpuUsPerReq, VS_BASELINE_REV) : null;
  const vsOld = old ? hook.reqPerSec / old.reqPerSec : NaN;
  const goals: Goal[] = [
    {
      name: 'hooklab req/s vs bare node:http',
      target: '>= 0.50x',
      value: x(vsBare) + (noisy(hook, bare) ? ` (!) (CPU-bound: ${x(cpuBound(hook, bare))})` : ''),
      pass: vsBare >= 0.5 && (!noisy(hook, bare) || cpuBound(hook, bare) >= 0.5),
    },
    {
      name: 'hooklab req/s vs Express 5',
      target: '> 1.00x',
      value: x(vsExpr) + (noisy(hook, expr) ? ` (!) (CPU-bound: ${x(cpuBound(hook, expr))})` : ''),
      pass: vsExpr > 1 && (!noisy(hook, expr) || cpuBound(hook, expr) > 1),
    },
    {
      name: 'lost requests (non-2xx + errors + 2xx without live event)',
      target: '0',
      value: String(failures + lost),
      pass: failures === 0 && lost === 0 && storedOk && hookRuns.every((h) => h.eventsSettled),
    },
    {
      name: `hooklab req/s vs ${OLD} (${BASELINE_REV === '9a91e4c' ? 'before the storage rewrite' : 'BENCH_BASELINE_REV'})`,
      target: `>= ${VS_BASELINE_REV.toFixed(2)}x`,
      value: old && oldGoal ? `${oldGoal.value} (CPU/req ${x(cpuBound(old, hook))})` : `no baseline: ${treeError}`,
      pass: !!oldGoal?.pass,
    },
  ];

  const row = (r: TargetRun) => [
    r.target,
    Math.round(r.reqPerSec),
    x(r.reqPerSec / bare.reqPerSec),
    `${r.p50Ms} ms`,
    `${r.p99Ms} ms`,
    r.ok2xx,
    r.non2xx + r.errors,
    r.liveEvents ?? '-',
    us(r.cpuUsPerReq),
    r.cpuUsPerReq !== null && bare.cpuUsPerReq !== null ? x(r.cpuUsPerReq / bare.cpuUsPerReq) : '-',
    `${r.round}${disturbed(r) ? ' (!)' : ''}`,
  ];
  const shown = [bare, expr, hook, ...(old ? [old] : [])];
  const spreads = targets.map(([t]) => `${t} ${spread(runs, t) === null ? '-' : `${Math.round(spread(runs, t)! * 100)}%`}`);
  return {
    name: 'capture',
    title: `1. Capture throughput (POST ${PAYLOAD.length} B sync_end, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s, best of ${ROUNDS} rounds)`,
    tables: [
      {
        title: '',
        columns: ['target', 'req/s', 'vs bare', 'p50', 'p99', '2xx', 'non-2xx+err', 'live events', 'server CPU/req', 'CPU/req vs bare', 'round'],
        rows: shown.map(row),
        notes: [
          `each target ran ${ROUNDS}x, interleaved (${targets.map(([t]) => t).join(', ')}, bare, ...), each time a fresh process, plus extra rounds (up to ${EXTRA_ROUNDS}) for a target with no undisturbed round; the row is its fastest undisturbed round (a neighbour on a shared machine only ever slows a run down).`,
          ...(shown.some(disturbed)
            ? [
                `(!) every round of that target (${ROUNDS} + up to ${EXTRA_ROUNDS} extra) ran while other processes used > ${DISTURBED_PCT}% of a core: its req/s is not to be trusted; ` +
                  'a goal that compares it passes only if it also holds on CPU time per request ("CPU-bound" in the goal). Re-run on a quieter machine.',
              ]
            : []),
          `lost requests, all ${hookRuns.length} hooklab rounds: ${sumEvents} live events on one Socket.IO subscriber (websocket) for ${sumOk} 2xx answers: ${lost} missing, ` +
            `${extra} extra (captured, but still in flight when autocannon stopped: at most ${CONNECTIONS} a round); ${failures} non-2xx or errors.`,
          ...(old
            ? [`the same for ${OLD} (no goal): ${oldLoss.lost} missing, ${oldLoss.failures} non-2xx or errors, stored = min(cap, captures): ${oldLoss.storedOk ? 'yes' : 'NO'}.`]
            : []),
          `stored: the measured bin's requestCount was min(cap ${MAX_REQUESTS_PER_BIN}, captures) in every round: ${storedOk ? 'yes' : 'NO'}. The cap is the default, so the live-event count, not the store, is what counts every capture.`,
          'p50 / p99: autocannon latency (it records whole milliseconds).',
          `server CPU/req = CPU time of the server process / requests answered: much less sensitive to a noisy machine than req/s. hooklab costs ${x(cpuRatio)} the CPU of bare per request, ` +
            `so with both servers CPU-bound hooklab could reach at most ~${x(1 / cpuRatio)} of bare's req/s.`,
        ],
      },
      ...(old
        ? [
            {
              title: `hooklab now vs ${OLD} (${BASELINE_REV === '9a91e4c' ? 'the code before the storage rewrite' : 'BENCH_BASELINE_REV'}, same run, same load, one live subscriber each)`,
              columns: ['figure', 'hooklab now', OLD, 'now / before'],
              rows: [
                ['req/s (fastest undisturbed round)', Math.round(hook.reqPerSec), Math.round(old.reqPerSec), x(vsOld)],
                ['req/s, round by round (min / median / max of now ÷ before)', '-', '-', pairedText(pairedRatios(hookRuns, oldRuns, (r) => r.reqPerSec))],
                ['server CPU per request', us(hook.cpuUsPerReq), us(old.cpuUsPerReq), hook.cpuUsPerReq !== null && old.cpuUsPerReq !== null ? x(hook.cpuUsPerReq / old.cpuUsPerReq) : '-'],
                ['p99 latency', `${hook.p99Ms} ms`, `${old.p99Ms} ms`, '-'],
                ['non-2xx + errors, all rounds', failures, oldLoss.failures, '-'],
              ],
              notes: [
                `${OLD} = commit ${tree!.sha} (BENCH_BASELINE_REV, default 9a91e4c), exported with git archive to ${path.relative(ROOT, tree!.dir)} and started as it was run then: node --import tsx server/main.ts, with Node's defaults (hooklab now as npm start runs it: node ${SERVER_NODE_FLAGS.join(' ')} dist/server/server/main.js).` +
                  (tree!.depsWarning ? ` WARNING: ${tree!.depsWarning}.` : ''),
                `goal: hooklab now >= ${VS_BASELINE_REV}x of ${OLD}'s req/s. The 5% allowance is for round-to-round noise; spread of the undisturbed rounds in this run: ${spreads.join(', ')}.`,
                'round by round: each round runs the two one after the other, so their ratio within a round cancels the slow drift of a shared VM; the goal is the median of those ratios (best against best when fewer than 3 rounds were quiet on both sides).',
                ...(sliced
                  ? [
                      `sliced (informational, no goal): both running side by side, loaded by turns in ${SLICE_S} s slices, ${SLICE_PAIRS} pairs (ABBA), so that both see the same machine state: ${slicedText(sliced, OLD, 'now')}.`,
                    ]
                  : []),
              ],
            },
          ]
        : []),
      {
        title: 'All rounds',
        columns: ['round', 'target', 'req/s', 'server CPU', 'loadgen CPU', 'other CPU', 'steal', 'server CPU/req'],
        rows: runs.map((r) => [`${r.round}${disturbed(r) ? ' (!)' : ''}`, r.target, Math.round(r.reqPerSec), pct(r.serverCpuPct), pct(r.loadGenCpuPct), pct(r.othersCpuPct), pct(r.stealPct), us(r.cpuUsPerReq)]),
        notes: [
          `CPU figures in % of one core (${CORES} cores = ${CORES * 100}%): server = the server child; loadgen = this process (autocannon + subscriber);`,
          `other = every other process on the machine (from /proc/stat); steal = time the hypervisor gave to other guests. A round where other + steal > ${DISTURBED_PCT}% is "disturbed" (!).`,
        ],
      },
    ],
    goals,
    data: {
      disturbedAbovePct: DISTURBED_PCT,
      sliced: sliced ? slicedData(sliced) : null,
      best: { bare: bare.round, express: expr.round, hooklab: hook.round, baselineRev: old?.round ?? null },
      cpuPerReqVsBare: round(cpuRatio, 3),
      baselineRev: tree ? { rev: tree.rev, sha: tree.sha, target: OLD, reqPerSecRatio: round(vsOld, 3), cpuPerReqRatio: old && hook.cpuUsPerReq !== null && old.cpuUsPerReq !== null ? round(hook.cpuUsPerReq / old.cpuUsPerReq, 3) : null, losses: oldLoss, depsWarning: tree.depsWarning } : { rev: BASELINE_REV, error: treeError },
      spreadPct: Object.fromEntries(targets.map(([t]) => [t, spread(runs, t) === null ? null : round(spread(runs, t)! * 100, 1)])),
      connections: CONNECTIONS,
      warmupS: WARMUP_S,
      durationS: DURATION_S,
      rounds: ROUNDS,
      payloadBytes: PAYLOAD.length,
      runs,
      lost,
      extra,
      failures,
      storedOk,
    },
  };
};
