// Benchmark 4: dispatcher fast-forward, two cases, each against its own baseline measured in
// the same run (interleaved rounds):
//
// - "spread" (the store-bound case): 1,000 pending deliveries spread over 64 always-500
//   receiver bins (64 webhooks subscribed to flow_started, each to its own bin), so up to 64
//   attempts can be in flight. Baseline: the same number of keep-alive POSTs at 64 in flight
//   to bare node:http. Goals: >= 0.50x and >= 2,000 attempts/s.
// - "one" (the ordered single-receiver case): 1,000 deliveries to ONE always-500 bin. Attempts
//   to one receiver at different virtual instants never overlap (issue 12: the receiver sees
//   them in recorded order), so after the first attempts (all at the run's instant) the
//   attempts go one at a time. Baseline: the same number of keep-alive POSTs ONE at a time
//   to bare node:http. Goal: >= 0.50x.
//
// In both the clock is paused, then ONE POST /api/clock/advance {ms: 24 h} runs the whole
// schedule; attempts per wall second of that call. Each round is a fresh hooklab, warmed up
// first as the other throughput benchmarks warm theirs (and as the bare server and this load
// generator are, with 20,000 POSTs): the same fast-forward once to other bins, whose webhooks
// are then deleted. Its rate is shown too (cold: V8 still compiling). Every round
// is checked: every delivery failed with one attempt per planned instant, each answered 500,
// sent at its planned instant; the bins captured exactly the attempts, each bin in the order
// of the attempts' recorded times.
import path from 'node:path';
import type { Delivery, RequestPage } from '../shared/api.ts';
import type { Bench, BenchOptions, Goal } from './lib/result.ts';
import { type Hooklab, createBin, getBin, receiverUrl, startHooklab } from './lib/hooklab.ts';
import { api, fire, type FireResult } from './lib/http.ts';
import { addProfileWindow, monotonicUs } from './lib/profile.ts';
import { type CpuWindow, cpuWindow, DISTURBED_PCT, type ServerProcess, spawnServer } from './lib/proc.ts';
import { round } from './lib/stats.ts';
import { ms, x } from './lib/table.ts';
import { sleep } from './lib/time.ts';
import { median, pairedGoal } from './lib/rounds.ts';

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 1000);
/** The warm-up's and the measured deliveries are read back in one page (the API's largest). */
const PAGE = 5000;
const CONCURRENCY = 64; // DISPATCH_CONCURRENCY default
const DAY = 86_400_000;
/** High enough that the receiving bins keep every attempt: the count is then checkable. */
const BIN_CAP = 20_000;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
/**
 * POSTs that warm the bare server and this load generator before the first round. Measured in
 * batches of 9,000 at 64 in flight from a fresh bare server: 7,700, 12,000, then ~15,000/s
 * from the third batch on. With 2,000 (before 2026-12-02) the first baseline rounds ran below
 * their steady rate (10,600 then 12,400 against 13,300-14,500 in the rounds after), which
 * flattered hooklab's ratio in those pairs.
 */
const BARE_WARMUP = 20_000;

type CaseName = 'spread' | 'one' | 'spread-tcp';
interface Case {
  name: CaseName;
  label: string;
  /** hooklab's environment for this case, on top of the bench's. */
  env?: Record<string, string>;
  /** No goal: shown for comparison, with why. */
  informational?: string;
  /** Receiver bins the deliveries are spread over. */
  receivers: number;
  /** Requests in flight in the baseline. */
  baselineConcurrency: number;
  baselineLabel: string;
}
const ALL_CASES: Case[] = [
  { name: 'spread', label: `${DELIVERIES} deliveries over ${CONCURRENCY} receiver bins`, receivers: CONCURRENCY, baselineConcurrency: CONCURRENCY, baselineLabel: `${CONCURRENCY} in flight` },
  { name: 'one', label: `${DELIVERIES} deliveries to ONE receiver bin (ordered)`, receivers: 1, baselineConcurrency: 1, baselineLabel: 'one at a time' },
  {
    name: 'spread-tcp',
    label: `as spread, with DISPATCH_IN_PROCESS=false`,
    env: { DISPATCH_IN_PROCESS: 'false' },
    informational: 'the attempts to the bins go over loopback TCP instead of the in-process link: what the link saves',
    receivers: CONCURRENCY,
    baselineConcurrency: CONCURRENCY,
    baselineLabel: `${CONCURRENCY} in flight`,
  },
];
/** BENCH_DISPATCH_CASES=spread,one,spread-tcp (default: all) picks cases, for quick experiments. */
const CASES = process.env.BENCH_DISPATCH_CASES ? ALL_CASES.filter((c) => process.env.BENCH_DISPATCH_CASES!.split(',').includes(c.name)) : ALL_CASES;

interface AdvanceRun {
  case: CaseName;
  round: number;
  advanceMs: number;
  attempts: number;
  perSec: number;
  failed: number;
  pendingLeft: number;
  /** Deliveries with attempts != planned, a status other than 500, or an attempt off its planned instant. */
  wrong: number;
  captured: number;
  /** Captures whose recorded time is earlier than the capture before it at the same bin. */
  outOfOrder: number;
  /** Attempts whose capture was not found at its bin. */
  unlinked: number;
  bodyBytes: number;
  cpu: CpuWindow;
  /** Server CPU time (all threads) per attempt, microseconds. */
  cpuUsPerAttempt: number | null;
  /** The warm-up's attempts/s (a cold process: V8 still compiling). */
  coldPerSec: number;
}

interface BaselineRun {
  case: CaseName;
  round: number;
  concurrency: number;
  requests: number;
  wallMs: number;
  perSec: number;
  errors: number;
  other: number;
  cpu: CpuWindow;
}

const disturbed = (c: CpuWindow) => c.disturbed;

/** Webhooks so that DELIVERIES split over `receivers` bins: `rem` of them get one run more. */
async function setUpDeliveries(hl: Hooklab, c: Case, label = 'always 500'): Promise<{ bins: string[]; webhooks: Set<string> }> {
  const bins: string[] = [];
  const webhooks = new Set<string>();
  for (let i = 0; i < c.receivers; i++) {
    const bin = await createBin(hl.base, `${label} #${i + 1}`);
    await api(hl.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 500 } });
    bins.push(bin.id);
  }
  await api(hl.base, 'PUT', '/api/clock', { paused: true });
  const perBin = Math.floor(DELIVERIES / c.receivers);
  const rem = DELIVERIES % c.receivers;
  const hook = async (i: number) => {
    const w = await api<{ id: string }>(hl.base, 'POST', '/api/webhooks', { name: `${label} ${i + 1}`, url: receiverUrl(hl.base, bins[i]), events: ['flow_started'] });
    webhooks.add(w.id);
  };
  const fireRuns = async (n: number) => {
    let made = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (made < n) {
          made++;
          await api(hl.base, 'POST', '/api/runs', {});
        }
      }),
    );
  };
  // First `rem` webhooks and one run (rem deliveries), then all of them and perBin runs.
  for (let i = 0; i < rem; i++) await hook(i);
  if (rem > 0) await fireRuns(1);
  for (let i = rem; i < c.receivers; i++) await hook(i);
  await fireRuns(perBin);
  return { bins, webhooks };
}

/**
 * The same fast-forward once, to bins of its own, before the measured one: V8 compiles the
 * attempt path meanwhile (cold, its helper threads took ~3x the CPU per attempt). Its
 * webhooks are deleted after, so the measured runs make only measured deliveries.
 */
async function warmUp(hl: Hooklab, c: Case): Promise<number> {
  const { webhooks } = await setUpDeliveries(hl, c, 'warm-up');
  const t0 = performance.now();
  await api(hl.base, 'POST', '/api/clock/advance', { ms: DAY }, 8 * 60_000);
  const wallMs = performance.now() - t0;
  const done = (await api<{ deliveries: Delivery[] }>(hl.base, 'GET', `/api/deliveries?state=failed&limit=${PAGE}`)).deliveries.filter((d) => webhooks.has(d.webhookId));
  for (const id of webhooks) await api(hl.base, 'DELETE', `/api/webhooks/${id}`);
  return done.reduce((t, d) => t + d.attempts.length, 0) / (wallMs / 1000);
}

async function oneAdvance(c: Case, roundNo: number, opts: BenchOptions): Promise<AdvanceRun> {
  const profDir = opts.profileDir ? path.join(opts.profileDir, `dispatcher-${c.name}`) : null;
  const hl = await startHooklab({
    env: { MAX_REQUESTS_PER_BIN: String(BIN_CAP), DISPATCH_CONCURRENCY: String(CONCURRENCY), MAX_FINISHED_DELIVERIES: String(PAGE), ...c.env },
    nodeArgs: profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
  });
  try {
    opts.log(`  dispatcher round ${roundNo}, ${c.name}: warm-up, then ${c.label}, then POST /api/clock/advance {ms: 24 h}`);
    const coldPerSec = await warmUp(hl, c);
    const { bins, webhooks } = await setUpDeliveries(hl, c);
    const pending = (await api<{ deliveries: Delivery[] }>(hl.base, 'GET', `/api/deliveries?state=pending&limit=${PAGE}`)).deliveries;
    if (pending.length !== DELIVERIES) throw new Error(`${pending.length} pending deliveries, expected ${DELIVERIES}`);
    const bodyBytes = Buffer.byteLength(JSON.stringify(pending[0].payload));
    await sleep(500); // let the runs' flush go by

    const stopCpu = cpuWindow(hl.proc.pid);
    const fromUs = monotonicUs();
    const t0 = performance.now();
    await api(hl.base, 'POST', '/api/clock/advance', { ms: DAY }, 8 * 60_000);
    const advanceMs = performance.now() - t0;
    const toUs = monotonicUs();
    const cpu = stopCpu();
    if (profDir) await addProfileWindow(profDir, hl.proc.pid, { fromUs, toUs });

    const failed = (await api<{ deliveries: Delivery[] }>(hl.base, 'GET', `/api/deliveries?state=failed&limit=${PAGE}`)).deliveries.filter((d) => webhooks.has(d.webhookId));
    const pendingLeft = (await api<{ deliveries: Delivery[] }>(hl.base, 'GET', `/api/deliveries?state=pending&limit=${PAGE}`)).deliveries.length;
    let attempts = 0;
    let wrong = 0;
    const sentAtOf = new Map<string, number>();
    for (const d of failed) {
      attempts += d.attempts.length;
      if (d.attempts.length !== d.plannedAt.length || d.attempts.some((a) => a.status !== 500 || a.sentAt !== a.plannedAt)) wrong++;
      for (const a of d.attempts) if (a.capturedRequestId) sentAtOf.set(a.capturedRequestId, Date.parse(a.sentAt));
    }
    let captured = 0;
    let outOfOrder = 0;
    const unlinked = attempts - sentAtOf.size;
    for (const id of bins) {
      captured += (await getBin(hl.base, id)).requestCount;
      // The bin's captures, oldest first: their recorded times never go back.
      const ids: string[] = [];
      for (let before: string | null = null; ; ) {
        const page: RequestPage = await api<RequestPage>(hl.base, 'GET', `/api/bins/${id}/requests?limit=500${before ? `&before=${before}` : ''}`);
        for (const r of page.requests) ids.push(r.id);
        if (!page.nextBefore) break;
        before = page.nextBefore;
      }
      ids.reverse();
      let last = -Infinity;
      for (const rid of ids) {
        const t = sentAtOf.get(rid);
        if (t === undefined) continue;
        if (t < last) outOfOrder++;
        last = t;
      }
    }
    return {
      case: c.name,
      round: roundNo,
      advanceMs,
      attempts,
      perSec: attempts / (advanceMs / 1000),
      failed: failed.length,
      pendingLeft,
      wrong,
      captured,
      outOfOrder,
      unlinked,
      bodyBytes,
      cpu,
      cpuUsPerAttempt: cpu.serverPct === null || attempts === 0 ? null : round((cpu.serverPct / 100) * advanceMs * 1000 / attempts, 1),
      coldPerSec,
    };
  } finally {
    await hl.cleanup();
  }
}

async function baselineRound(c: Case, roundNo: number, bare: ServerProcess, requests: number, bodyBytes: number, opts: BenchOptions): Promise<BaselineRun> {
  opts.log(`  dispatcher round ${roundNo}, ${c.name}: baseline, ${requests} POSTs ${c.baselineLabel} to bare node:http`);
  const body = Buffer.alloc(bodyBytes, 'x');
  const stopCpu = cpuWindow(bare.pid);
  const r: FireResult = await fire(() => `${bare.url}/h/bench`, requests, c.baselineConcurrency, body, { 'content-type': 'application/json' });
  const cpu = stopCpu();
  return { case: c.name, round: roundNo, concurrency: c.baselineConcurrency, requests: r.ok, wallMs: r.wallMs, perSec: r.ok / (r.wallMs / 1000), errors: r.errors, other: r.other, cpu };
}

/** The fastest undisturbed round (the fastest of all when every round was disturbed). */
const fastest = <T extends { perSec: number; cpu: CpuWindow }>(rs: T[]) => {
  const quiet = rs.filter((r) => !disturbed(r.cpu));
  return (quiet.length ? quiet : rs).reduce((a, b) => (b.perSec > a.perSec ? b : a));
};
/** (fastest - slowest) / fastest, in %. */
const spreadPct = (rs: { perSec: number }[]) => (rs.length < 2 ? null : Math.round(((Math.max(...rs.map((r) => r.perSec)) - Math.min(...rs.map((r) => r.perSec))) / Math.max(...rs.map((r) => r.perSec))) * 100));
const pct = (v: number | null) => (v === null ? '-' : `${Math.round(v)}%`);

export const dispatcherBench: Bench = async (opts) => {
  if (2 * DELIVERIES > PAGE) throw new Error(`BENCH_DELIVERIES must be at most ${PAGE / 2}: the warm-up's deliveries and the measured ones are read back in one page of ${PAGE}`);
  const runs: AdvanceRun[] = [];
  const baselines: BaselineRun[] = [];
  const bare = await spawnServer({ script: 'bench/baselines/bare-http.ts', label: 'bare node:http' });
  try {
    // Warmed to its steady rate, as each hooklab is by its warm-up fast-forward (see BARE_WARMUP).
    const warmBody = Buffer.alloc(215, 'x');
    await fire(() => `${bare.url}/h/warmup`, BARE_WARMUP, CONCURRENCY, warmBody, { 'content-type': 'application/json' });
    if (CASES.some((c) => c.baselineConcurrency === 1)) await fire(() => `${bare.url}/h/warmup`, 2000, 1, warmBody, { 'content-type': 'application/json' });
    // Interleaved: spread, its baseline, one, its baseline, spread, ...
    for (let r = 1; r <= ROUNDS; r++) {
      for (const c of CASES) {
        const run = await oneAdvance(c, r, opts);
        runs.push(run);
        baselines.push(await baselineRound(c, r, bare, run.attempts, run.bodyBytes, opts));
      }
    }
  } finally {
    await bare.stop();
  }

  const goals: Goal[] = [];
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  const data: Record<string, unknown> = { deliveries: DELIVERIES, concurrency: CONCURRENCY, binCap: BIN_CAP, rounds: ROUNDS };
  for (const c of CASES) {
    const mine = runs.filter((r) => r.case === c.name);
    const base = baselines.filter((b) => b.case === c.name);
    const best = fastest(mine);
    const bestBase = fastest(base);
    const ratio = best.perSec / bestBase.perSec;
    const allRight = mine.every((r) => r.failed === DELIVERIES && r.wrong === 0 && r.pendingLeft === 0 && r.captured === r.attempts && r.outOfOrder === 0 && r.unlinked === 0);
    if (c.name === 'spread') {
      goals.push({
        name: `dispatcher attempts/s, ${c.receivers} receivers`,
        target: '>= 2,000/s',
        value: `${Math.round(best.perSec).toLocaleString('en-US')}/s${disturbed(best.cpu) ? ' (!)' : ''}`,
        pass: best.perSec >= 2000 && allRight,
      });
    }
    // The rounds side by side (see pairedGoal): each round's advance and its baseline.
    const asRound = (r: { round: number; perSec: number; cpu: CpuWindow }, cpuUs: number | null) => ({ round: r.round, perSec: r.perSec, othersCpuPct: r.cpu.othersPct, stealPct: r.cpu.stealPct, cpuUs });
    const paired = pairedGoal(
      mine.map((r) => asRound(r, r.cpuUsPerAttempt)),
      base.map((b) => asRound(b, b.cpu.serverPct === null ? null : ((b.cpu.serverPct / 100) * b.wallMs * 1000) / b.requests)),
      (r) => r.perSec,
      (r) => r.cpuUs,
      0.5,
    );
    if (c.informational) notes.push(`${c.name} (no goal; ${c.informational}): vs its baseline ${paired.value}.`);
    else {
      goals.push({
        name: `dispatcher attempts/s, ${c.receivers === 1 ? 'one receiver' : `${c.receivers} receivers`}, vs keep-alive POSTs ${c.baselineLabel} to bare node:http`,
        target: '>= 0.50x',
        value: paired.value,
        pass: paired.pass && allRight,
      });
    }
    for (const r of mine) {
      rows.push([
        `${c.name}: hooklab advance, round ${r.round}${r === best ? ' (best)' : ''}`,
        r.attempts,
        ms(r.advanceMs),
        Math.round(r.perSec),
        x(r.perSec / bestBase.perSec),
        pct(r.cpu.serverPct),
        r.cpuUsPerAttempt === null ? '-' : `${r.cpuUsPerAttempt} us`,
        `${pct(r.cpu.othersPct)}${disturbed(r.cpu) ? ' (!)' : ''}`,
      ]);
    }
    for (const b of base) {
      rows.push([
        `${c.name}: baseline, ${c.baselineLabel}, round ${b.round}${b === bestBase ? ' (best)' : ''}`,
        b.requests,
        ms(b.wallMs),
        Math.round(b.perSec),
        b === bestBase ? '1.00x' : x(b.perSec / bestBase.perSec),
        pct(b.cpu.serverPct),
        b.cpu.serverPct === null ? '-' : `${round((b.cpu.serverPct / 100) * b.wallMs * 1000 / b.requests, 1)} us`,
        `${pct(b.cpu.othersPct)}${disturbed(b.cpu) ? ' (!)' : ''}`,
      ]);
    }
    notes.push(
      `${c.name}: ${c.label}; every round: failed ${mine.map((r) => r.failed).join('/')} of ${DELIVERIES}, pending ${mine.map((r) => r.pendingLeft).join('/')}, ` +
        `wrong (attempts != planned, status != 500 or sent off its planned instant) ${mine.map((r) => r.wrong).join('/')}; attempts ${mine.map((r) => r.attempts).join('/')}, ` +
        `captured ${mine.map((r) => r.captured).join('/')}, captures out of recorded order ${mine.map((r) => r.outOfOrder).join('/')}, attempts not linked to a capture ${mine.map((r) => r.unlinked).join('/')}: ${allRight ? 'all right' : 'WRONG'}. ` +
        `Spread of rounds: hooklab ${spreadPct(mine) ?? '-'}%, baseline ${spreadPct(base) ?? '-'}%. ` +
        `Each round's warm-up (the same fast-forward to other bins in the fresh process, V8 still compiling): ${mine.map((r) => Math.round(r.coldPerSec).toLocaleString('en-US')).join(' / ')} attempts/s.`,
    );
    data[c.name] = {
      receivers: c.receivers,
      baselineConcurrency: c.baselineConcurrency,
      runs: mine.map((r) => ({ ...r, advanceMs: round(r.advanceMs, 1), perSec: round(r.perSec, 1), coldPerSec: round(r.coldPerSec, 1) })),
      baselines: base.map((b) => ({ ...b, wallMs: round(b.wallMs, 1), perSec: round(b.perSec, 1) })),
      best: best.round,
      attemptsPerSec: round(best.perSec, 1),
      baselinePerSec: round(bestBase.perSec, 1),
      vsBaseline: round(ratio, 3),
      pairedRatio: round(paired.ratio, 3),
      pairs: paired.pairs.map((p) => round(p, 3)),
      spreadPct: { hooklab: spreadPct(mine), baseline: spreadPct(base) },
      allRight,
    };
  }
  // What the in-process link saves: spread against spread-tcp, round by round.
  const linkPairs = runs
    .filter((r) => r.case === 'spread')
    .flatMap((r) => runs.filter((t) => t.case === 'spread-tcp' && t.round === r.round).map((t) => r.perSec / t.perSec))
    .sort((a, b) => a - b);
  if (linkPairs.length) {
    const mid = median(linkPairs);
    notes.push(`in-process link: spread ran ${x(mid)} as fast as spread-tcp (median of ${linkPairs.length} rounds side by side; pairs ${x(linkPairs[0])}-${x(linkPairs.at(-1)!)}).`);
    data.inProcessSpeedup = { median: round(mid, 3), pairs: linkPairs.map((p) => round(p, 3)) };
  }
  const bodyBytes = runs[0]?.bodyBytes ?? 0;
  return {
    name: 'dispatcher',
    title: `4. Dispatcher (${DELIVERIES} deliveries to always-500 bins, one advance of 24 h, DISPATCH_CONCURRENCY=${CONCURRENCY}; ${CASES.length} cases, best of ${ROUNDS} interleaved rounds)`,
    tables: [
      {
        title: '',
        columns: ['measure', 'requests', 'wall', 'per second', 'vs baseline', 'server CPU', 'server CPU/req', 'other CPU'],
        rows,
        notes: [
          ...notes,
          `"vs baseline" is against the best baseline round of the same case; best = the fastest undisturbed round (the fastest of all if every round was disturbed). ` +
            'The ratio goals are the median of the rounds side by side (each hooklab round against its own baseline round, both undisturbed; best against best with fewer than 3 such pairs); the attempts/s goal is the best round. Every hooklab round must be right.',
          `spread: the store-bound case, where up to ${CONCURRENCY} attempts can be in flight; baseline = the same number of keep-alive POSTs at ${CONCURRENCY} in flight. ` +
            `Attempts to one receiver made at different virtual instants never overlap, and no attempt starts while an earlier-planned one waits for its receiver, so fewer than ${CONCURRENCY} are in flight on average.`,
          'one: all attempts go to one receiver, which must see them in recorded order: after the first attempts (all at the runs\' instant, concurrent) they go one at a time; ' +
            'baseline = the same number of keep-alive POSTs one at a time. Each attempt is a round trip from the dispatcher through the receiver (a capture) and back, both ends on the main thread of the one hooklab process (attempts to its own receivers go from there, not through the sender thread).',
          `server CPU = the server process (all threads), % of one core; server CPU/req = its CPU time per attempt (or per request, for bare): steadier than req/s on a busy machine. ` +
            `other CPU = other processes, % of one core; above ${DISTURBED_PCT}% (!) a neighbour may have slowed the round down.`,
          `attempt body ${bodyBytes} B (the sync_start payload); the baselines send bodies of that size; ${baselines.reduce((t, b) => t + b.errors, 0)} baseline errors, ${baselines.reduce((t, b) => t + b.other, 0)} non-2xx. ` +
            `MAX_REQUESTS_PER_BIN=${BIN_CAP}: the bins keep every attempt.`,
        ],
      },
    ],
    goals,
    data,
  };
};
