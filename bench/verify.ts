// Benchmark 10: what signature verification costs the capture path (issue 14). Capture
// throughput measured as in the capture benchmark (autocannon, the ~600-byte payload, 50
// connections, 2 s warm-up to another bin, 10 s measured, one live subscriber), every request
// validly signed with Standard Webhooks (the `standardwebhooks` package; a distinct
// webhook-id per request, all signed before the clock starts), to a bin with verification ON
// (PUT /api/bins/:id/verify, one standard-webhooks scheme with the signing secret) and OFF
// (no verify settings), same requests, interleaved rounds, each a fresh hooklab.
//
// Verification runs off the answer path (in a batch at the end of the turn, after the answers),
// so the figure is SUSTAINED: captures of the measured window / time from the start of the
// load until the last capture was stored and, when ON, the last verdict too (the live event
// that carries it: the capture's own `request` when checked before it left, else a
// `requests:updated`). At the end every stored capture must say `valid`, and every capture must
// have got its verdict live (a `request` or `requests:updated` with a verification).
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import type { RequestItem, RequestPage } from '../shared/api.ts';
import { cannon, CONNECTIONS, DURATION_S, ROUNDS, WARMUP_S } from './capture-throughput.ts';
import { connectSubscriber, createBin, getBin, receiverUrl, startHooklab } from './lib/hooklab.ts';
import { api } from './lib/http.ts';
import { PAYLOAD, PAYLOAD_HEADERS } from './lib/payload.ts';
import { cpuMs, DISTURBED_PCT, machineCpu } from './lib/proc.ts';
import { addProfileWindow, monotonicUs } from './lib/profile.ts';
import { bestRound, disturbed, pairedGoal, spreadPct as spreadOf } from './lib/rounds.ts';
import { alternate, runSlice, SLICE_PAIRS, SLICE_S, type Sliced, slicedData, slicedText } from './lib/slices.ts';
import type { Bench, BenchOptions, Goal } from './lib/result.ts';
import { round } from './lib/stats.ts';
import { x } from './lib/table.ts';
import { sleep, waitFor } from './lib/time.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const CAP = 500; // hooklab's default MAX_REQUESTS_PER_BIN, as in the capture benchmark
const EXTRA_ROUNDS = 2;
const CORES = os.cpus().length;
/** Signed requests made per run (a 12 s flood is well under this here; past it they repeat). */
const POOL = Number(process.env.BENCH_VERIFY_POOL ?? 150_000);

type Mode = 'off' | 'on';
const LABEL: Record<Mode, string> = { off: 'verification OFF', on: 'verification ON (standard-webhooks)' };

interface Signed {
  id: string;
  ts: string;
  sig: string;
}

/** POOL validly signed header sets for the payload, timestamped now. */
function signPool(): Signed[] {
  const wh = new Webhook(SECRET);
  const now = new Date();
  const ts = String(Math.floor(now.getTime() / 1000));
  const tag = Math.random().toString(36).slice(2, 8);
  const out: Signed[] = new Array(POOL);
  for (let i = 0; i < POOL; i++) {
    const id = `msg_${tag}_${i}`;
    out[i] = { id, ts, sig: wh.sign(id, now, PAYLOAD) };
  }
  return out;
}

/** autocannon options that send the pool's signed requests, one after another. */
function signedLoad(pool: Signed[]) {
  let next = 0;
  return {
    requests: [
      {
        method: 'POST',
        body: PAYLOAD,
        setupRequest: (req: { headers: Record<string, string> }) => {
          const s = pool[next++ % pool.length];
          req.headers = { ...PAYLOAD_HEADERS, 'webhook-id': s.id, 'webhook-timestamp': s.ts, 'webhook-signature': s.sig };
          return req;
        },
      },
    ],
  };
}

/**
 * Informational: ON and OFF as two bins of ONE hooklab, loaded by turns in SLICE_S slices
 * (lib/slices.ts), so that both see the same machine state. Each slice's rate is sustained as
 * in the rounds: its captures / time until the last one's event (ON: and verdict) arrived.
 */
async function slicedRun(opts: BenchOptions): Promise<Sliced & { verdictsValid: boolean }> {
  const pool = signPool();
  const signed = signedLoad(pool);
  const hl = await startHooklab({ label: 'hooklab (verify, sliced)', env: { MAX_REQUESTS_PER_BIN: String(CAP) } });
  try {
    const offBin = await createBin(hl.base, 'off');
    const onBin = await createBin(hl.base, 'on');
    await api(hl.base, 'PUT', `/api/bins/${onBin.id}/verify`, { schemes: [{ type: 'standard-webhooks', secrets: [SECRET] }] });
    const sub = await connectSubscriber(hl.base);
    const lastUs = new Map<string, number>();
    const verdicts = new Map<string, string>();
    const seen = (r: RequestItem) => {
      if (r.binId === onBin.id && r.verification) verdicts.set(r.id, r.verification.status);
      lastUs.set(r.binId, monotonicUs());
    };
    sub.onRequest = seen;
    sub.socket.on('requests:updated', (e: { binId: string; items: RequestItem[] }) => e.items.forEach(seen));
    try {
      await sub.subscribe(offBin.id);
      await sub.subscribe(onBin.id);
      const slice = (binId: string, on: boolean) => {
        let verdictsBefore = 0;
        return () =>
          runSlice({
            count: () => sub.counts.get(binId) ?? 0,
            load: async () => {
              verdictsBefore = verdicts.size;
              return (await cannon(receiverUrl(hl.base, binId), SLICE_S, signed))['2xx'];
            },
            settled: (n, answered) => n >= answered && (!on || verdicts.size - verdictsBefore >= n),
            lastUs: () => lastUs.get(binId) ?? 0,
          });
      };
      opts.log(`  sliced: one hooklab, OFF and ON bins loaded by turns, ${SLICE_PAIRS} pairs of ${SLICE_S} s slices (after ${WARMUP_S} s of warm-up each)`);
      if (WARMUP_S > 0) {
        await cannon(receiverUrl(hl.base, offBin.id), WARMUP_S, signed);
        await cannon(receiverUrl(hl.base, onBin.id), WARMUP_S, signed);
        await sleep(300);
      }
      const r = await alternate(slice(offBin.id, false), slice(onBin.id, true));
      return { ...r, verdictsValid: [...verdicts.values()].every((v) => v === 'valid') };
    } finally {
      sub.close();
    }
  } finally {
    await hl.cleanup();
  }
}

interface VerifyRun {
  round: number;
  mode: Mode;
  floodPerSec: number;
  sustainedPerSec: number;
  captures: number;
  ok2xx: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
  /** Distinct captures of the measured bin whose verdict arrived live, by status. */
  verdicts: Record<string, number>;
  /** Verdicts that came in a requests:updated (the rest were in the capture's own event). */
  viaUpdate: number;
  /** The stored captures (newest CAP) by verification status ('none': no verdict). */
  stored: Record<string, number>;
  binRequestCount: number;
  settled: boolean;
  /** From the end of the load to the last verdict (ON). */
  drainMs: number;
  serverCpuUsPerCapture: number | null;
  serverCpuPct: number | null;
  loadGenCpuPct: number;
  othersCpuPct: number | null;
  stealPct: number | null;
}

const r1 = (v: number) => round(v, 1);

async function oneRun(mode: Mode, roundNo: number, opts: BenchOptions): Promise<VerifyRun> {
  const pool = signPool(); // before the hooklab starts: not timed
  const signed = signedLoad(pool);
  const hl = await startHooklab({
    label: `hooklab (verify ${mode})`,
    env: { MAX_REQUESTS_PER_BIN: String(CAP) },
    nodeArgs: opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(opts.profileDir, `verify-${mode}`)}`] : [],
  });
  try {
    const warmBin = await createBin(hl.base, 'warm-up');
    const bin = await createBin(hl.base, 'measured');
    if (mode === 'on') {
      for (const b of [warmBin, bin]) await api(hl.base, 'PUT', `/api/bins/${b.id}/verify`, { schemes: [{ type: 'standard-webhooks', secrets: [SECRET] }] });
    }
    const sub = await connectSubscriber(hl.base);
    let lastEventUs = 0;
    let lastVerdictUs = 0;
    const verdictOf = new Map<string, string>();
    let viaUpdate = 0;
    const verdict = (r: RequestItem) => {
      if (r.binId !== bin.id || !r.verification) return false;
      verdictOf.set(r.id, r.verification.status);
      lastVerdictUs = monotonicUs();
      return true;
    };
    sub.onRequest = (r) => {
      if (r.binId !== bin.id) return;
      lastEventUs = monotonicUs();
      verdict(r);
    };
    sub.socket.on('requests:updated', (e: { binId: string; items: RequestItem[] }) => {
      for (const r of e.items) if (verdict(r)) viaUpdate++;
    });
    try {
      await sub.subscribe(warmBin.id);
      await sub.subscribe(bin.id);
      opts.log(`  round ${roundNo}, ${LABEL[mode]}: warm-up ${WARMUP_S} s, then ${DURATION_S} s at ${CONNECTIONS} connections (signed requests, ${pool.length} precomputed)`);
      if (WARMUP_S > 0) await cannon(receiverUrl(hl.base, warmBin.id), WARMUP_S, signed);
      await sleep(300);

      const server0 = cpuMs(hl.proc.pid);
      const machine = machineCpu();
      const self0 = process.cpuUsage();
      const t0 = monotonicUs();
      const res = await cannon(receiverUrl(hl.base, bin.id), DURATION_S, signed);
      const loadEnd = monotonicUs();
      let last = -1;
      let lastV = -1;
      let still = 0;
      const settled = await waitFor(() => {
        const n = sub.counts.get(bin.id) ?? 0;
        const v = verdictOf.size;
        still = n === last && v === lastV ? still + 1 : 0;
        last = n;
        lastV = v;
        if (n < res['2xx'] || still < 2) return false;
        return mode === 'off' || v >= n || still >= 20; // 20 x 100 ms without a change: give up
      }, 60_000, 100);
      const server1 = cpuMs(hl.proc.pid);
      const self = process.cpuUsage(self0);
      const m = machine();
      const wallMs = (monotonicUs() - t0) / 1000;
      const captures = sub.counts.get(bin.id) ?? 0;
      const doneUs = Math.max(lastEventUs, mode === 'on' ? lastVerdictUs : 0, t0 + 1);
      if (opts.profileDir) await addProfileWindow(path.join(opts.profileDir, `verify-${mode}`), hl.proc.pid, { fromUs: t0, toUs: doneUs });
      const serverMs = server0 !== null && server1 !== null ? server1 - server0 : null;
      const selfPct = r1(((self.user + self.system) / 1000 / wallMs) * 100);
      const serverCpuPct = serverMs === null ? null : r1((serverMs / wallMs) * 100);
      const verdicts: Record<string, number> = {};
      for (const s of verdictOf.values()) verdicts[s] = (verdicts[s] ?? 0) + 1;
      const page = await api<RequestPage>(hl.base, 'GET', `/api/bins/${bin.id}/requests?limit=${CAP}`);
      const stored: Record<string, number> = {};
      for (const r of page.requests) {
        const s = r.verification?.status ?? 'none';
        stored[s] = (stored[s] ?? 0) + 1;
      }
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
        verdicts,
        viaUpdate,
        stored,
        binRequestCount: (await getBin(hl.base, bin.id)).requestCount,
        settled,
        drainMs: mode === 'on' ? Math.max(0, (lastVerdictUs - loadEnd) / 1000) : 0,
        serverCpuUsPerCapture: serverMs === null || captures === 0 ? null : r1((serverMs * 1000) / captures),
        serverCpuPct,
        loadGenCpuPct: selfPct,
        othersCpuPct: m && serverCpuPct !== null ? Math.max(0, r1(m.busyPct * CORES - serverCpuPct - selfPct)) : null,
        stealPct: m ? r1(m.stealPct * CORES) : null,
      };
    } finally {
      sub.close();
    }
  } finally {
    await hl.cleanup();
  }
}

const sustained = (r: VerifyRun) => r.sustainedPerSec;
const best = (runs: VerifyRun[], mode: Mode) => bestRound(runs.filter((r) => r.mode === mode), sustained);
const spreadPct = (runs: VerifyRun[], mode: Mode) => spreadOf(runs.filter((r) => r.mode === mode), sustained);

const fmtCounts = (c: Record<string, number>) => Object.entries(c).map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
/** ON: every capture got a verdict, all valid, and every stored capture says valid. */
const allValid = (r: VerifyRun) =>
  (r.verdicts.valid ?? 0) === r.captures && Object.keys(r.verdicts).every((k) => k === 'valid') && (r.stored.valid ?? 0) === Math.min(CAP, r.captures) && Object.keys(r.stored).every((k) => k === 'valid');

export const verifyBench: Bench = async (opts) => {
  const runs: VerifyRun[] = [];
  const modes: Mode[] = ['off', 'on'];
  for (let r = 1; r <= ROUNDS; r++) for (const m of modes) runs.push(await oneRun(m, r, opts));
  for (let r = ROUNDS + 1; r <= ROUNDS + EXTRA_ROUNDS; r++) {
    const missing = modes.filter((m) => !runs.some((x) => x.mode === m && !disturbed(x)));
    if (missing.length === 0) break;
    opts.log(`  no undisturbed round yet for ${missing.join(', ')}: extra round ${r}`);
    for (const m of missing) runs.push(await oneRun(m, r, opts));
  }
  const sliced = await slicedRun(opts);
  const off = best(runs, 'off');
  const on = best(runs, 'on');
  const onRuns = runs.filter((r) => r.mode === 'on');
  const goal = pairedGoal(onRuns, runs.filter((r) => r.mode === 'off'), sustained, (r) => r.serverCpuUsPerCapture, 0.9);
  const { ratio, cpuBound } = goal;
  const valid = onRuns.every(allValid);
  const lost = runs.reduce((t, r) => t + r.failures + Math.max(0, r.ok2xx - r.captures), 0);
  const goals: Goal[] = [
    {
      name: 'capture req/s with verification ON vs OFF (sustained: every verdict stored)',
      target: '>= 0.90x',
      value: goal.value,
      pass: goal.pass && valid,
    },
    {
      name: 'verdicts, every ON round: one per capture, all valid; stored captures all valid',
      target: 'all valid',
      value: onRuns.map((r) => `${r.verdicts.valid ?? 0}/${r.captures}`).join(', '),
      pass: valid,
    },
  ];
  const row = (r: VerifyRun) => [
    LABEL[r.mode],
    Math.round(r.sustainedPerSec),
    x(r.sustainedPerSec / off.sustainedPerSec),
    Math.round(r.floodPerSec),
    `${r.p50Ms} ms`,
    `${r.p99Ms} ms`,
    r.captures,
    r.mode === 'on' ? fmtCounts(r.verdicts) : '-',
    r.mode === 'on' ? `${Math.round(r.drainMs)} ms` : '-',
    r.serverCpuUsPerCapture === null ? '-' : `${r.serverCpuUsPerCapture} us`,
    `${r.round}${disturbed(r) ? ' (!)' : ''}`,
  ];
  const pct = (v: number | null) => (v === null ? '-' : `${Math.round(v)}%`);
  return {
    name: 'verify',
    title: `10. Verification cost (POST ${PAYLOAD.length} B Standard Webhooks-signed, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s; best of ${ROUNDS} interleaved rounds)`,
    tables: [
      {
        title: '',
        columns: ['bin', 'sustained req/s', 'vs OFF', 'flood req/s', 'p50', 'p99', 'captures', 'verdicts (live)', 'drain', 'hooklab CPU/capture', 'round'],
        rows: [off, on].map(row),
        notes: [
          `the same requests both ways: ${POOL.toLocaleString('en-US')} distinct webhook-ids signed with the standardwebhooks package before each run (not timed), cycled through by autocannon.`,
          `sustained req/s = captures in the measured ${DURATION_S} s (live events) / time from the start of the load until the last capture and, ON, the last verdict (the live event carrying it: the capture's own, or a requests:updated); drain = that time after the load stopped. ` +
            'flood req/s = autocannon\'s figure.',
          `ON rounds: verdicts received live (distinct captures) ${onRuns.map((r) => `round ${r.round}: ${fmtCounts(r.verdicts)} of ${r.captures} captures (${r.viaUpdate} in a requests:updated, the rest in the capture's own event)`).join('; ')}; ` +
            `stored captures (newest ${CAP}) ${onRuns.map((r) => `round ${r.round}: ${fmtCounts(r.stored)}`).join('; ')}.`,
          `each mode ran ${ROUNDS}x interleaved (off, on, off, ...), each a fresh hooklab with one live subscriber; the row is its fastest undisturbed round. The goal is the median of ON ÷ OFF of the same round (both undisturbed; best against best with fewer than 3 such pairs). ` +
            `Spread of undisturbed rounds (sustained): off ${spreadPct(runs, 'off') ?? '-'}%, on ${spreadPct(runs, 'on') ?? '-'}%.`,
          `every round: non-2xx + errors + 2xx without a live event: ${lost}; bin requestCount = min(${CAP}, captures): ${runs.every((r) => r.binRequestCount === Math.min(CAP, r.captures)) ? 'yes' : 'NO'}; settled: ${runs.every((r) => r.settled) ? 'yes' : 'NO'}.`,
          'hooklab CPU/capture = the hooklab process\'s CPU over load + drain / captures: best against best\'s CPU-bound figure compares these when a compared round was disturbed.',
          `sliced (informational, no goal): ON and OFF as two bins of one hooklab, loaded by turns in ${SLICE_S} s slices, ${SLICE_PAIRS} pairs (ABBA), so that both see the same machine state: ${slicedText(sliced, 'OFF', 'ON')}; ON verdicts all valid: ${sliced.verdictsValid ? 'yes' : 'NO'}.`,
        ],
      },
      {
        title: 'All rounds',
        columns: ['round', 'bin', 'sustained req/s', 'flood req/s', 'hooklab CPU', 'loadgen CPU', 'other CPU', 'steal', 'hooklab CPU/capture'],
        rows: runs.map((r) => [`${r.round}${disturbed(r) ? ' (!)' : ''}`, LABEL[r.mode], Math.round(r.sustainedPerSec), Math.round(r.floodPerSec), pct(r.serverCpuPct), pct(r.loadGenCpuPct), pct(r.othersCpuPct), pct(r.stealPct), r.serverCpuUsPerCapture === null ? '-' : `${r.serverCpuUsPerCapture} us`]),
        notes: [`CPU in % of one core (${CORES} cores); other = every other process; a round where other + steal > ${DISTURBED_PCT}% is disturbed (!).`],
      },
    ],
    goals,
    data: { ratio: round(ratio, 3), pairs: goal.pairs.map((p) => round(p, 3)), sliced: slicedData(sliced), cpuBound: round(cpuBound, 3), valid, pool: POOL, best: { off: off.round, on: on.round }, runs },
  };
};
