// Benchmark 4: dispatcher fast-forward. 1,000 pending deliveries (1,000 runs x one webhook
// subscribed to flow_started) to an "always 500" bin on the same hooklab, clock paused, then
// ONE POST /api/clock/advance {ms: 24 h} runs the whole schedule. Attempts per wall second.
// Baseline: the same number of POSTs of the same size from a Node keep-alive client, at the
// dispatcher's concurrency, to the bare node:http server.
import type { Delivery } from '../shared/api.ts';
import path from 'node:path';
import type { Bench, Goal } from './lib/result.ts';
import { createBin, getBin, receiverUrl, startHooklab } from './lib/hooklab.ts';
import { api, fire } from './lib/http.ts';
import { spawnServer } from './lib/proc.ts';
import { round } from './lib/stats.ts';
import { ms, x } from './lib/table.ts';

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 1000);
const CONCURRENCY = 64; // DISPATCH_CONCURRENCY default
const DAY = 86_400_000;
/** High enough that the receiving bin keeps every attempt: the count is then checkable. */
const BIN_CAP = 20_000;

export const dispatcherBench: Bench = async ({ log, profileDir }) => {
  const hl = await startHooklab({
    env: { MAX_REQUESTS_PER_BIN: String(BIN_CAP), DISPATCH_CONCURRENCY: String(CONCURRENCY), MAX_FINISHED_DELIVERIES: String(Math.max(5000, DELIVERIES)) },
    nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, 'dispatcher')}`] : [],
  });
  let bodyBytes = 0;
  let advanceMs = 0;
  let total = 0;
  let failed: Delivery[] = [];
  let pendingLeft = 0;
  let wrongCount = 0;
  let captured = 0;
  try {
    const bin = await createBin(hl.base, 'always 500');
    await api(hl.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 500 } });
    await api(hl.base, 'POST', '/api/webhooks', { name: 'bench', url: receiverUrl(hl.base, bin.id), events: ['flow_started'] });
    await api(hl.base, 'PUT', '/api/clock', { paused: true });
    log(`  dispatcher: creating ${DELIVERIES} deliveries`);
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
    bodyBytes = Buffer.byteLength(JSON.stringify(pending[0].payload));

    log('  dispatcher: POST /api/clock/advance {ms: 24 h}');
    const t0 = performance.now();
    await api(hl.base, 'POST', '/api/clock/advance', { ms: DAY }, 8 * 60_000);
    advanceMs = performance.now() - t0;

    failed = (await api<{ deliveries: Delivery[] }>(hl.base, 'GET', '/api/deliveries?state=failed&limit=5000')).deliveries;
    pendingLeft = (await api<{ deliveries: Delivery[] }>(hl.base, 'GET', '/api/deliveries?state=pending&limit=5000')).deliveries.length;
    for (const d of failed) {
      total += d.attempts.length;
      if (d.attempts.length !== d.plannedAt.length || d.attempts.some((a) => a.status !== 500)) wrongCount++;
    }
    captured = (await getBin(hl.base, bin.id)).requestCount;
  } finally {
    await hl.cleanup();
  }

  // Baseline: the same number of requests, same body size, same concurrency, to bare node:http.
  log(`  dispatcher: baseline, ${total} POSTs at ${CONCURRENCY} in flight to bare node:http`);
  const bare = await spawnServer({ script: 'bench/baselines/bare-http.ts', label: 'bare node:http' });
  let baseline: Awaited<ReturnType<typeof fire>>;
  try {
    const body = Buffer.alloc(bodyBytes, 'x');
    await fire(() => `${bare.url}/h/warmup`, 2000, CONCURRENCY, body, { 'content-type': 'application/json' });
    baseline = await fire(() => `${bare.url}/h/bench`, total, CONCURRENCY, body, { 'content-type': 'application/json' });
  } finally {
    await bare.stop();
  }

  const perSec = total / (advanceMs / 1000);
  const basePerSec = baseline.ok / (baseline.wallMs / 1000);
  const allFailedRight = failed.length === DELIVERIES && wrongCount === 0 && pendingLeft === 0;
  const goals: Goal[] = [
    { name: 'dispatcher attempts/s while fast-forwarding', target: '>= 2,000/s', value: `${Math.round(perSec).toLocaleString('en-US')}/s`, pass: perSec >= 2000 && allFailedRight },
  ];
  return {
    name: 'dispatcher',
    title: `4. Dispatcher (${DELIVERIES} deliveries to an always-500 bin, one advance of 24 h, DISPATCH_CONCURRENCY=${CONCURRENCY})`,
    tables: [
      {
        title: '',
        columns: ['measure', 'requests', 'wall', 'per second', 'vs baseline'],
        rows: [
          ['hooklab dispatcher: attempts during advance', total, ms(advanceMs), Math.round(perSec), x(perSec / basePerSec)],
          [`baseline: Node keep-alive POSTs -> bare node:http`, baseline.ok, ms(baseline.wallMs), Math.round(basePerSec), '1.00x'],
        ],
        notes: [
          `deliveries failed: ${failed.length} of ${DELIVERIES}, still pending: ${pendingLeft}, with attempts != planned or a status other than 500: ${wrongCount}; ` +
            `attempts per delivery: ${failed.length ? (total / failed.length).toFixed(2) : '-'}.`,
          `receiving bin captured ${captured} requests (MAX_REQUESTS_PER_BIN=${BIN_CAP}, so it keeps them all; expected ${total}).`,
          `attempt body ${bodyBytes} B (the sync_start payload); baseline sends ${bodyBytes} B bodies at ${CONCURRENCY} in flight; ${baseline.errors} errors, ${baseline.other} non-2xx.`,
        ],
      },
    ],
    goals,
    data: {
      deliveries: DELIVERIES,
      concurrency: CONCURRENCY,
      binCap: BIN_CAP,
      totalAttempts: total,
      advanceMs: round(advanceMs, 1),
      attemptsPerSec: round(perSec, 1),
      baseline: { requests: baseline.ok, wallMs: round(baseline.wallMs, 1), perSec: round(basePerSec, 1) },
      failed: failed.length,
      pendingLeft,
      wrongCount,
      captured,
    },
  };
};
