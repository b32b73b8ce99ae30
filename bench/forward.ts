// Benchmark 9: what forwarding costs the capture path (issue 13). Capture throughput measured
// as in the capture benchmark (autocannon, the ~600-byte payload, 50 connections, 2 s warm-up
// to another bin, 10 s measured, one live subscriber) on a bin with:
//   - no forward targets,
//   - ONE forward target (background forwarding, the default) pointing at a local bare
//     node:http server (baselines/counting-target.ts, which also counts what it gets),
//   - the same target in proxy mode (answerWith: 'target': the sender waits for the target's
//     answer), informational.
// Interleaved rounds, each a fresh hooklab; the best undisturbed round of each counts.
//
// Every forward must be delivered: a forward waiting for a slot past FORWARD_CONCURRENCY x 10
// is recorded 'overloaded' and not sent, and one that waits until its capture has been pushed
// out of the bin (the default cap, 500) is not sent at all. A 50-connection flood captures
// faster than one target is forwarded to, so the backlog grows for the whole 10 s: the bench
// raises FORWARD_CONCURRENCY to 10,000 (at most 100,000 waiting; with the agent's 64 sockets
// per origin the extra concurrency only queues) on every hooklab it starts, and counts the
// throughput as SUSTAINED: captures of the measured 10 s divided by the time from the start
// of the load until the last of them was captured and (with forwarding) received by the target.
// The flood-window req/s (what autocannon saw) is shown next to it.
import os from 'node:os';
import path from 'node:path';
import type { RequestDetail, RequestPage } from '../shared/api.ts';
import { cannon, CONNECTIONS, DURATION_S, ROUNDS, WARMUP_S } from './capture-throughput.ts';
import { connectSubscriber, createBin, getBin, type Hooklab, receiverUrl, startHooklab } from './lib/hooklab.ts';
import { api } from './lib/http.ts';
import { PAYLOAD } from './lib/payload.ts';
import { cpuMs, DISTURBED_PCT, machineCpu, type ServerProcess, spawnServer } from './lib/proc.ts';
import { addProfileWindow, monotonicUs } from './lib/profile.ts';
import { bestRound, disturbed, pairedGoal, spreadPct as spreadOf } from './lib/rounds.ts';
import { alternate, runSlice, SLICE_PAIRS, SLICE_S, type Sliced, slicedData, slicedText } from './lib/slices.ts';
import type { Bench, BenchOptions, Goal } from './lib/result.ts';
import { round } from './lib/stats.ts';
import { x } from './lib/table.ts';
import { sleep, waitFor } from './lib/time.ts';

/** Raised for the benchmark (hooklab's default is 32): see the header. BENCH_FORWARD_CONCURRENCY=32 shows what the default drops. */
export const FORWARD_CONCURRENCY = Number(process.env.BENCH_FORWARD_CONCURRENCY ?? 10_000);
const CAP = 500; // hooklab's default MAX_REQUESTS_PER_BIN, as in the capture benchmark
const EXTRA_ROUNDS = 2;
const CORES = os.cpus().length;

type Mode = 'none' | 'forward' | 'proxy';
const LABEL: Record<Mode, string> = { none: 'no forward targets', forward: 'one forward target', proxy: 'proxy mode (answerWith: target)' };
const SEGMENT: Record<Mode, string> = { none: '/none', forward: '/x', proxy: '/p' };

interface TargetCounts {
  counts: Record<string, number>;
  lastUs: Record<string, number>;
}

interface DetailTally {
  /** Stored captures looked at (the newest, up to the cap). */
  checked: number;
  ok: number;
  overloaded: number;
  otherError: number;
  /** No forward record (not sent, or still in flight). */
  noRecord: number;
}

export interface FwdRun {
  round: number;
  mode: Mode;
  /** autocannon's mean of per-second samples during the 10 s. */
  floodPerSec: number;
  /** Captures of the measured window / (last capture, and its forward, done - start). */
  sustainedPerSec: number;
  captures: number;
  ok2xx: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
  /** From the end of the load to the last forward received (0 without forwarding). */
  drainMs: number;
  /** Requests the target got for the measured bin. */
  delivered: number | null;
  details: DetailTally | null;
  binRequestCount: number;
  settled: boolean;
  serverCpuUsPerCapture: number | null;
  targetCpuUsPerCapture: number | null;
  serverCpuPct: number | null;
  targetCpuPct: number | null;
  loadGenCpuPct: number;
  othersCpuPct: number | null;
  stealPct: number | null;
}

const r1 = (v: number) => round(v, 1);

async function targetCounts(target: ServerProcess): Promise<TargetCounts> {
  return api<TargetCounts>(target.url, 'GET', '/__count');
}

async function setForward(hl: Hooklab, binId: string, target: ServerProcess, segment: string, mode: Mode) {
  await api(hl.base, 'PUT', `/api/bins/${binId}/forward`, { targets: [{ url: `${target.url}${segment}` }], answerWith: mode === 'proxy' ? 'target' : 'bin' });
}

/** Each stored capture's forward records, tallied (the newest CAP: older ones were evicted). */
async function tallyDetails(hl: Hooklab, binId: string): Promise<DetailTally> {
  const page = await api<RequestPage>(hl.base, 'GET', `/api/bins/${binId}/requests?limit=${CAP}`);
  const t: DetailTally = { checked: 0, ok: 0, overloaded: 0, otherError: 0, noRecord: 0 };
  let next = 0;
  const ids = page.requests.map((r) => r.id);
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < ids.length) {
        const id = ids[next++];
        const d = await api<RequestDetail>(hl.base, 'GET', `/api/bins/${binId}/requests/${id}`);
        t.checked++;
        const f = d.forwards.filter((r) => r.kind === 'forward' || r.kind === 'proxy');
        if (f.length === 0) t.noRecord++;
        for (const r of f) {
          if (r.error === 'overloaded') t.overloaded++;
          else if (r.error || r.status !== 200) t.otherError++;
          else t.ok++;
        }
      }
    }),
  );
  return t;
}

async function oneRun(mode: Mode, roundNo: number, target: ServerProcess, opts: BenchOptions): Promise<FwdRun> {
  const hl = await startHooklab({
    label: `hooklab (${mode})`,
    env: { MAX_REQUESTS_PER_BIN: String(CAP), FORWARD_CONCURRENCY: String(FORWARD_CONCURRENCY) },
    nodeArgs: opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(opts.profileDir, `forward-${mode}`)}`] : [],
  });
  try {
    const warmBin = await createBin(hl.base, 'warm-up');
    const bin = await createBin(hl.base, 'measured');
    if (mode !== 'none') {
      await setForward(hl, warmBin.id, target, '/warm', mode);
      await setForward(hl, bin.id, target, SEGMENT[mode], mode);
    }
    const sub = await connectSubscriber(hl.base);
    let lastEventUs = 0;
    sub.onRequest = (r) => {
      if (r.binId === bin.id) lastEventUs = monotonicUs();
    };
    try {
      await sub.subscribe(warmBin.id);
      await sub.subscribe(bin.id);
      opts.log(`  round ${roundNo}, ${LABEL[mode]}: warm-up ${WARMUP_S} s, then ${DURATION_S} s at ${CONNECTIONS} connections`);
      if (WARMUP_S > 0) await cannon(receiverUrl(hl.base, warmBin.id), WARMUP_S);
      // The warm-up's forwards must not be charged to the measured window.
      if (mode === 'forward') {
        await waitFor(async () => ((await targetCounts(target)).counts['/warm'] ?? 0) >= (sub.counts.get(warmBin.id) ?? 0), 120_000, 100);
      }
      await api(target.url, 'POST', '/__reset');
      await sleep(300);

      const server0 = cpuMs(hl.proc.pid);
      const target0 = cpuMs(target.pid);
      const machine = machineCpu();
      const self0 = process.cpuUsage();
      const t0 = monotonicUs();
      const res = await cannon(receiverUrl(hl.base, bin.id), DURATION_S);
      const loadEnd = monotonicUs();
      // Wait for the last captures' events and, with forwarding, for the target to have
      // received one forward per capture (bounded; a count that stops moving ends it too).
      let last = -1;
      let lastDelivered = -1;
      let still = 0;
      let delivered: number | null = null;
      let targetLastUs = 0;
      const settled = await waitFor(async () => {
        const n = sub.counts.get(bin.id) ?? 0;
        if (mode !== 'none') {
          const c = await targetCounts(target);
          delivered = c.counts[SEGMENT[mode]] ?? 0;
          targetLastUs = c.lastUs[SEGMENT[mode]] ?? 0;
        }
        const d = delivered ?? -1;
        still = n !== last || d !== lastDelivered ? 0 : still + 1;
        last = n;
        lastDelivered = d;
        const eventsDone = n >= res['2xx'] && still >= 2;
        if (mode === 'forward') return eventsDone && (delivered! >= n || still >= 20); // 20 x 100 ms without a change: give up
        return eventsDone;
      }, 180_000, 100);
      const server1 = cpuMs(hl.proc.pid);
      const target1 = cpuMs(target.pid);
      const self = process.cpuUsage(self0);
      const m = machine();
      const captures = sub.counts.get(bin.id) ?? 0;
      const doneUs = Math.max(lastEventUs, mode === 'forward' ? targetLastUs : 0, t0 + 1);
      if (opts.profileDir) await addProfileWindow(path.join(opts.profileDir, `forward-${mode}`), hl.proc.pid, { fromUs: t0, toUs: doneUs });
      // CPU over the whole window: load, then the drain (the poll above ends within ~200 ms of the last forward).
      const wallMs = (monotonicUs() - t0) / 1000;
      const serverMs = server0 !== null && server1 !== null ? server1 - server0 : null;
      const targetMs = target0 !== null && target1 !== null ? target1 - target0 : null;
      const selfPct = r1(((self.user + self.system) / 1000 / wallMs) * 100);
      const serverCpuPct = serverMs === null ? null : r1((serverMs / wallMs) * 100);
      const targetCpuPct = targetMs === null ? null : r1((targetMs / wallMs) * 100);
      const details = mode === 'none' ? null : await tallyDetails(hl, bin.id);
      return {
        round: roundNo,
        mode,
        floodPerSec: res.requests.average,
        sustainedPerSec: captures / ((doneUs - t0) / 1e6),
        captures,
        ok2xx: res['2xx'],
        failures: res.non2xx + res.errors + res.timeouts,
        p50Ms: res.latency.p50,
        p99Ms: res.latency.p99,
        drainMs: mode === 'forward' ? Math.max(0, (targetLastUs - loadEnd) / 1000) : 0,
        delivered,
        details,
        binRequestCount: (await getBin(hl.base, bin.id)).requestCount,
        settled,
        serverCpuUsPerCapture: serverMs === null || captures === 0 ? null : r1((serverMs * 1000) / captures),
        targetCpuUsPerCapture: targetMs === null || captures === 0 || mode === 'none' ? null : r1((targetMs * 1000) / captures),
        serverCpuPct,
        targetCpuPct,
        loadGenCpuPct: selfPct,
        othersCpuPct: m && serverCpuPct !== null ? Math.max(0, r1(m.busyPct * CORES - serverCpuPct - (targetCpuPct ?? 0) - selfPct)) : null,
        stealPct: m ? r1(m.stealPct * CORES) : null,
      };
    } finally {
      sub.close();
    }
  } finally {
    await hl.cleanup();
  }
}

/**
 * Informational: no targets and one target as two bins of ONE hooklab, loaded by turns in
 * SLICE_S slices (lib/slices.ts), so that both see the same machine state. A forward slice
 * lasts until the target has received its last forward (sustained, as in the rounds), so its
 * backlog never runs into the next slice.
 */
async function slicedRun(target: ServerProcess, opts: BenchOptions): Promise<Sliced & { misses: string[] }> {
  const hl = await startHooklab({ label: 'hooklab (forward, sliced)', env: { MAX_REQUESTS_PER_BIN: String(CAP), FORWARD_CONCURRENCY: String(FORWARD_CONCURRENCY) } });
  const misses: string[] = [];
  try {
    const noneBin = await createBin(hl.base, 'none');
    const fwdBin = await createBin(hl.base, 'forward');
    await api(hl.base, 'PUT', `/api/bins/${fwdBin.id}/forward`, { targets: [{ url: `${target.url}/s` }], answerWith: 'bin' });
    const sub = await connectSubscriber(hl.base);
    const lastUs = new Map<string, number>();
    sub.onRequest = (r) => lastUs.set(r.binId, monotonicUs());
    try {
      await sub.subscribe(noneBin.id);
      await sub.subscribe(fwdBin.id);
      const slice = (binId: string, forwarding: boolean) => async () => {
        let got = 0;
        let targetLastUs = 0;
        if (forwarding) await api(target.url, 'POST', '/__reset');
        const r = await runSlice({
          count: () => sub.counts.get(binId) ?? 0,
          load: async () => (await cannon(receiverUrl(hl.base, binId), SLICE_S))['2xx'],
          settled: async (n, answered) => {
            if (n < answered) return false;
            if (!forwarding) return true;
            const c = await targetCounts(target);
            got = c.counts['/s'] ?? 0;
            targetLastUs = c.lastUs['/s'] ?? 0;
            return got >= n;
          },
          lastUs: () => Math.max(lastUs.get(binId) ?? 0, targetLastUs),
          boundMs: 120_000,
        });
        // Said with its counts: one short run came out NO with nothing to tell why.
        if (forwarding && (!r.settled || got !== r.done)) misses.push(`${r.settled ? '' : 'unsettled, '}target got ${got} of ${r.done}`);
        return r;
      };
      opts.log(`  sliced: one hooklab, a bin without and one with a forward target loaded by turns, ${SLICE_PAIRS} pairs of ${SLICE_S} s slices (after a warm-up slice each)`);
      await slice(noneBin.id, false)();
      await slice(fwdBin.id, true)();
      const r = await alternate(slice(noneBin.id, false), slice(fwdBin.id, true));
      return { ...r, misses };
    } finally {
      sub.close();
    }
  } finally {
    await hl.cleanup();
  }
}

const sustained = (r: FwdRun) => r.sustainedPerSec;
const best = (runs: FwdRun[], mode: Mode) => bestRound(runs.filter((r) => r.mode === mode), sustained);
const spreadPct = (runs: FwdRun[], mode: Mode) => spreadOf(runs.filter((r) => r.mode === mode), sustained);

/** Every forward of a round delivered: the target got one per capture, and no stored capture says otherwise. */
const allDelivered = (r: FwdRun) => r.delivered === r.captures && !!r.details && r.details.overloaded === 0 && r.details.otherError === 0 && r.details.noRecord === 0;

export const forwardBench: Bench = async (opts) => {
  const target = await spawnServer({ script: 'bench/baselines/counting-target.ts', label: 'forward target (bare node:http)' });
  const runs: FwdRun[] = [];
  let sliced: Sliced & { misses: string[] };
  const modes: Mode[] = ['none', 'forward', 'proxy'];
  try {
    for (let r = 1; r <= ROUNDS; r++) for (const m of modes) runs.push(await oneRun(m, r, target, opts));
    for (let r = ROUNDS + 1; r <= ROUNDS + EXTRA_ROUNDS; r++) {
      const missing = modes.filter((m) => !runs.some((x) => x.mode === m && !disturbed(x)));
      if (missing.length === 0) break;
      opts.log(`  no undisturbed round yet for ${missing.join(', ')}: extra round ${r}`);
      for (const m of missing) runs.push(await oneRun(m, r, target, opts));
    }
    sliced = await slicedRun(target, opts);
  } finally {
    await target.stop();
  }

  const none = best(runs, 'none');
  const fwd = best(runs, 'forward');
  const proxy = best(runs, 'proxy');
  const fwdRuns = runs.filter((r) => r.mode === 'forward');
  // CPU-bound: hooklab's CPU per capture without forwarding / with it (the target's own CPU is not hooklab's).
  const goal = pairedGoal(runs.filter((r) => r.mode === 'forward'), runs.filter((r) => r.mode === 'none'), sustained, (r) => r.serverCpuUsPerCapture, 0.5);
  const { ratio, cpuBound } = goal;
  const proxyRatio = proxy.sustainedPerSec / none.sustainedPerSec;
  const delivered = fwdRuns.every(allDelivered);
  const lostAnswers = runs.reduce((t, r) => t + r.failures + Math.max(0, r.ok2xx - r.captures), 0);
  const goals: Goal[] = [
    {
      name: 'capture req/s with one forward target vs none (sustained: every forward delivered)',
      target: '>= 0.50x',
      value: goal.value,
      pass: goal.pass && delivered,
    },
    {
      name: 'forwards delivered, every forward round (target count = captures; none overloaded)',
      target: 'all',
      value: fwdRuns.map((r) => `${r.delivered ?? 0}/${r.captures}`).join(', '),
      pass: delivered,
    },
  ];
  const tally = (r: FwdRun) => (r.details ? `${r.details.ok} ok, ${r.details.overloaded} overloaded, ${r.details.otherError} error, ${r.details.noRecord} none (of ${r.details.checked})` : '-');
  const row = (r: FwdRun) => [
    LABEL[r.mode],
    Math.round(r.sustainedPerSec),
    x(r.sustainedPerSec / none.sustainedPerSec),
    Math.round(r.floodPerSec),
    `${r.p50Ms} ms`,
    `${r.p99Ms} ms`,
    r.captures,
    r.delivered ?? '-',
    r.mode === 'forward' ? `${Math.round(r.drainMs)} ms` : '-',
    r.serverCpuUsPerCapture === null ? '-' : `${r.serverCpuUsPerCapture} us`,
    r.targetCpuUsPerCapture === null ? '-' : `${r.targetCpuUsPerCapture} us`,
    `${r.round}${disturbed(r) ? ' (!)' : ''}`,
  ];
  const pct = (v: number | null) => (v === null ? '-' : `${Math.round(v)}%`);
  return {
    name: 'forward',
    title: `9. Forward cost (POST ${PAYLOAD.length} B, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s; FORWARD_CONCURRENCY=${FORWARD_CONCURRENCY}; best of ${ROUNDS} interleaved rounds)`,
    tables: [
      {
        title: '',
        columns: ['bin', 'sustained req/s', 'vs none', 'flood req/s', 'p50', 'p99', 'captures', 'forwards received', 'drain', 'hooklab CPU/capture', 'target CPU/capture', 'round'],
        rows: [none, fwd, proxy].map(row),
        notes: [
          `sustained req/s = captures in the measured ${DURATION_S} s (live events) / time from the start of the load until the last capture was stored and, with a forward target, ` +
            'the target had received the last forward (drain = that time after the load stopped). flood req/s = autocannon\'s figure for the 10 s. ' +
            'Without forwarding the two agree; with it, the flood figure leaves out the forwards still owed when the load stops.',
          `FORWARD_CONCURRENCY=${FORWARD_CONCURRENCY} (default 32) on every hooklab here, so that no forward is dropped: with the default, a flood this size overflows the ` +
            `waiting list (${32 * 10}) within a second and the rest are recorded "overloaded", and a forward that waits until ${CAP} newer captures have pushed its capture out of the bin is not sent at all.`,
          `forwards received: requests the target (bare node:http, its own process on the same 2 cores) got for the measured bin; must equal captures. Stored captures' forward records (newest ${CAP}), every forward round: ` +
            fwdRuns.map((r) => `round ${r.round}: ${tally(r)}`).join('; ') + '.',
          `proxy mode: the sender waits for the target's answer (no goal); its records: ${tally(proxy)}.`,
          `sliced (informational, no goal): a bin without and one with the forward target in one hooklab, loaded by turns in ${SLICE_S} s slices, ${SLICE_PAIRS} pairs (ABBA), so that both see the same machine state; ` +
            `a forward slice lasts until its last forward arrived: ${slicedText(sliced, 'none', 'one target')}; every forward delivered: ${sliced.misses.length ? `NO (${sliced.misses.join('; ')})` : 'yes'}.`,
          `each mode ran ${ROUNDS}x interleaved (none, forward, proxy, none, ...), each a fresh hooklab with one live subscriber; the row is its fastest undisturbed round. The goal is the median of forward ÷ none of the same round (both undisturbed; best against best with fewer than 3 such pairs). ` +
            `Spread of undisturbed rounds (sustained): none ${spreadPct(runs, 'none') ?? '-'}%, forward ${spreadPct(runs, 'forward') ?? '-'}%, proxy ${spreadPct(runs, 'proxy') ?? '-'}%.`,
          `every round: non-2xx + errors + 2xx without a live event: ${lostAnswers}; bin requestCount = min(${CAP}, captures): ${runs.every((r) => r.binRequestCount === Math.min(CAP, r.captures)) ? 'yes' : 'NO'}; ` +
            `settled: ${runs.every((r) => r.settled) ? 'yes' : 'NO'}.`,
          `hooklab CPU/capture = the hooklab process's CPU over load + drain / captures (the goal's CPU-bound figure compares these); target CPU/capture = the target process's.`,
        ],
      },
      {
        title: 'All rounds',
        columns: ['round', 'bin', 'sustained req/s', 'flood req/s', 'hooklab CPU', 'target CPU', 'loadgen CPU', 'other CPU', 'steal'],
        rows: runs.map((r) => [`${r.round}${disturbed(r) ? ' (!)' : ''}`, LABEL[r.mode], Math.round(r.sustainedPerSec), Math.round(r.floodPerSec), pct(r.serverCpuPct), pct(r.targetCpuPct), pct(r.loadGenCpuPct), pct(r.othersCpuPct), pct(r.stealPct)]),
        notes: [`CPU in % of one core (${CORES} cores); other = every other process; a round where other + steal > ${DISTURBED_PCT}% is disturbed (!).`],
      },
    ],
    goals,
    data: {
      sliced: { ...slicedData(sliced), delivered: sliced.misses.length === 0, misses: sliced.misses },
      forwardConcurrency: FORWARD_CONCURRENCY,
      cap: CAP,
      ratio: round(ratio, 3),
      pairs: goal.pairs.map((p) => round(p, 3)),
      proxyRatio: round(proxyRatio, 3),
      cpuBound: round(cpuBound, 3),
      delivered,
      best: { none: none.round, forward: fwd.round, proxy: proxy.round },
      runs,
    },
  };
};
