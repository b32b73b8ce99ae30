// Benchmark 4: dispatcher fast-forward. 1,000 pending deliveries (1,000 runs x one webhook
// subscribed to flow_started) to an "always 500" bin on the same hooklab, clock paused, then
// ONE POST /api/clock/advance {ms: 24 h} runs the whole schedule. Attempts per wall second.
// Done BENCH_ROUNDS times (default 3), each on a fresh hooklab; the fastest round counts.
// Baseline: the same number of POSTs of the same size from a Node keep-alive client, at the
// dispatcher's concurrency, to the bare node:http server.
import os from 'node:os';
import path from 'node:path';
import type { Delivery } from '../shared/api.ts';
import type { Bench, BenchOptions, Goal } from './lib/result.ts';
import { createBin, getBin, receiverUrl, startHooklab } from './lib/hooklab.ts';
import { api, fire } from './lib/http.ts';
import { cpuMs, DISTURBED_PCT, machineCpu, spawnServer } from './lib/proc.ts';
import { round } from './lib/stats.ts';
import { ms, x } from './lib/table.ts';
import { sleep } from './lib/time.ts';

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 1000);
const CONCURRENCY = 64; // DISPATCH_CONCURRENCY default
const DAY = 86_400_000;
/** High enough that the receiving bin keeps every attempt: the count is then checkable. */
const BIN_CAP = 20_000;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

interface AdvanceRun {
  round: number;
  advanceMs: number;
  attempts: number;
  perSec: number;
  failed: number;
  pendingLeft: number;
  wrong: number;
  captured: number;
  bodyBytes: number;
  serverCpuPct: number | null;
  othersCpuPct: number | null;
}

async function oneAdvance(roundNo: number, opts: BenchOptions): Promise<AdvanceRun> {
  const hl = await startHooklab({
    env: { MAX_REQUESTS_PER_BIN: String(BIN_CAP), DISPATCH_CONCURRENCY: String(CONCURRENCY), MAX_FINISHED_DELIVERIES: String(Math.max(5000, DELIVERIES)) },
    nodeArgs: opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(opts.profileDir, 'dispatcher')}`] : [],
  });
  try {
    const bin = await createBin(hl.base, 'always 500');
    await api(hl.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 500 } });
    await api(hl.base, 'POST', '/api/webhooks', { name: 'bench', url: receiverUrl(hl.base, bin.id), events: ['flow_started'] });
    await api(hl.base, 'PUT', '/api/clock', { paused: true });
    opts.log(`  dispatcher round ${roundNo}: ${DELIVERIES} runs, then POST /api/clock/advance {ms: 24 h}`);
    let made = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (made < DELIVERIES) {
          made++;
          await api(hl.base, 'POST', '/api/runs', {});
        }
      }),
    );
    const pending = (await api<{ deliveries: Delivery[] }>(hl.base, 'GET', '/api/deliveries?state=pending&limit=5000')).deliveries;
    if (pending.length !== DELIVERIES) throw new Error(`${pending.length} pending deliveries, expected ${DELIVERIES}`);
    const bodyBytes = Buffer.byteLength(JSON.stringify(pending[0].payload));
    await sleep(500); // let the runs' flush go by

    const cpu0 = cpuMs(hl.proc.pid);
    const machine = machineCpu();
    const self0 = process.cpuUsage();
    const t0 = performance.now();
    await api(hl.base, 'POST', '/api/clock/advance', { ms: DAY }, 8 * 60_000);
    const advanceMs = performance.now() - t0;
    const cpu1 = cpuMs(hl.proc.pid);
    const self = process.cpuUsage(self0);
    const m = machine();

    const failed = (await api<{ deliveries: Delivery[] }>(hl.base, 'GET', '/api/deliveries?state=failed&limit=5000')).deliveries;
    const pendingLeft = (await api<{ deliveries: Delivery[] }>(hl.base, 'GET', '/api/deliveries?state=pending&limit=5000')).deliveries.length;
    let attempts = 0;
    let wrong = 0;
    for (const d of failed) {
      attempts += d.attempts.length;
      if (d.attempts.length !== d.plannedAt.length || d.attempts.some((a) => a.status !== 500)) wrong++;
    }
    const captured = (await getBin(hl.base, bin.id)).requestCount;
    const serverCpuPct = cpu0 !== null && cpu1 !== null ? round(((cpu1 - cpu0) / advanceMs) * 100, 0) : null;
    const selfPct = ((self.user + self.system) / 1000 / advanceMs) * 100;
    return {
      round: roundNo,
      advanceMs,
      attempts,
      perSec: attempts / (advanceMs / 1000),
      failed: failed.length,
      pendingLeft,
      wrong,
      captured,
      bodyBytes,
      serverCpuPct,
      othersCpuPct: m && serverCpuPct !== null ? Math.max(0, round(m.busyPct * os.cpus().length - serverCpuPct - selfPct, 0)) : null,
    };
  } finally {
    await hl.cleanup();
  }
}

export const dispatcherBench: Bench = async (opts) => {
  const runs: AdvanceRun[] = [];
  for (let r = 1; r <= ROUNDS; r++) runs.push(await oneAdvance(r, opts));
  const best = runs.reduce((a, b) => (b.perSec > a.perSec ? b : a));
  const total = best.attempts;

  // Baseline: the same number of requests, same body size, same concurrency, to bare node:http.
  opts.log(`  dispatcher: baseline, ${ROUNDS} x ${total} POSTs at ${CONCURRENCY} in flight to bare node:http`);
  const bare = await spawnServer({ script: 'bench/baselines/bare-http.ts', label: 'bare node:http' });
  const baselines: Awaited<ReturnType<typeof fire>>[] = [];
  try {
    const body = Buffer.alloc(best.bodyBytes, 'x');
    await fire(() => `${bare.url}/h/warmup`, 2000, CONCURRENCY, body, { 'content-type': 'application/json' });
    for (let r = 0; r < ROUNDS; r++) baselines.push(await fire(() => `${bare.url}/h/bench`, total, CONCURRENCY, body, { 'content-type': 'application/json' }));
  } finally {
    await bare.stop();
  }
  const baseline = baselines.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  const basePerSec = baseline.ok / (baseline.wallMs / 1000);
  const allRight = runs.every((r) => r.failed === DELIVERIES && r.wrong === 0 && r.pendingLeft === 0 && r.captured === r.attempts);
  const goals: Goal[] = [
    {
      name: 'dispatcher attempts/s while fast-forwarding',
      target: '>= 2,000/s',
      value: `${Math.round(best.perSec).toLocaleString('en-US')}/s${(best.othersCpuPct ?? 0) > DISTURBED_PCT ? ' (!)' : ''}`,
      pass: best.perSec >= 2000 && allRight,
    },
    {
      name: 'dispatcher attempts/s vs raw keep-alive POSTs to bare node:http',
      target: '>= 0.50x',
      value: `${x(best.perSec / basePerSec)}${(best.othersCpuPct ?? 0) > DISTURBED_PCT ? ' (!)' : ''}`,
      pass: best.perSec / basePerSec >= 0.5 && allRight,
    },
  ];
  return {
    name: 'dispatcher',
    title: `4. Dispatcher (${DELIVERIES} deliveries to an always-500 bin, one advance of 24 h, DISPATCH_CONCURRENCY=${CONCURRENCY}, best of ${ROUNDS})`,
    tables: [
      {
        title: '',
        columns: ['measure', 'requests', 'wall', 'per second', 'vs baseline', 'server CPU', 'other CPU'],
        rows: [
          ...runs.map((r) => [
            `hooklab advance, round ${r.round}${r === best ? ' (best)' : ''}`,
            r.attempts,
            ms(r.advanceMs),
            Math.round(r.perSec),
            x(r.perSec / basePerSec),
            r.serverCpuPct === null ? '-' : `${r.serverCpuPct}%`,
            r.othersCpuPct === null ? '-' : `${r.othersCpuPct}%`,
          ]),
          [`baseline: Node keep-alive POSTs -> bare node:http (best of ${ROUNDS})`, baseline.ok, ms(baseline.wallMs), Math.round(basePerSec), '1.00x', '-', '-'],
        ],
        notes: [
          `every round: deliveries failed ${runs.map((r) => r.failed).join('/')} of ${DELIVERIES}, pending ${runs.map((r) => r.pendingLeft).join('/')}, ` +
            `with attempts != planned or a status other than 500: ${runs.map((r) => r.wrong).join('/')}; attempts per delivery ${(total / DELIVERIES).toFixed(2)}.`,
          `receiving bin captured ${runs.map((r) => r.captured).join('/')} requests (MAX_REQUESTS_PER_BIN=${BIN_CAP}: it keeps them all), attempts ${runs.map((r) => r.attempts).join('/')}.`,
          `other CPU = other processes during the advance, in % of one core; above ${DISTURBED_PCT}% (!) a neighbour slowed the round down.`,
          `the receiving bin is on the same hooklab: each attempt is a dispatch and a capture in one process (server CPU = that process, 100% = one core).`,
          `attempt body ${best.bodyBytes} B (the sync_start payload); the baseline sends ${best.bodyBytes} B bodies at ${CONCURRENCY} in flight; ${baseline.errors} errors, ${baseline.other} non-2xx.`,
          `goals: >= 2,000 attempts/s, and >= 0.50x of the baseline's requests/s (the best round of each; both need every round correct). The baseline does only the HTTP part: ` +
            'a dispatcher attempt also schedules, signs, records the attempt, and the receiving bin captures it, all in the one hooklab process (the HTTP calls on a worker thread: DISPATCH_WORKER=true, the default).',
        ],
      },
    ],
    goals,
    data: {
      deliveries: DELIVERIES,
      concurrency: CONCURRENCY,
      binCap: BIN_CAP,
      rounds: runs.map((r) => ({ ...r, advanceMs: round(r.advanceMs, 1), perSec: round(r.perSec, 1) })),
      best: best.round,
      attemptsPerSec: round(best.perSec, 1),
      baseline: { requests: baseline.ok, wallMs: round(baseline.wallMs, 1), perSec: round(basePerSec, 1), allWallMs: baselines.map((b) => round(b.wallMs, 1)) },
      vsBaseline: round(best.perSec / basePerSec, 3),
      allRight,
    },
  };
};
