// Benchmark 11: the Redis store (issue 11, STORE=redis). Three measures, one run, all on
// 127.0.0.1, every redis-server a fresh one (test/helpers/redis.ts: a real redis-server on a
// free port, appendonly yes + appendfsync everysec, stopped by pid):
//   1. Capture throughput as in the capture benchmark (autocannon, the ~600-byte payload, 50
//      connections, 2 s warm-up to another bin, 10 s measured, one live subscriber) for ONE
//      hooklab on lowdb (the default) and ONE hooklab on Redis: interleaved rounds, each a
//      fresh hooklab (and a fresh redis-server); the best undisturbed round of each counts.
//   2. In the same interleaved rounds: TWO hooklabs on one Redis, the load split across both
//      at once (two autocannon runs in parallel, 25 connections each), the one live
//      subscriber on A (it sees B's captures through Redis): aggregate req/s, vs one instance.
//   3. Live latency at a steady, modest rate (not a flood): a capture POSTed to A reaching a
//      Socket.IO subscriber on B (cross-instance, through Redis's capture feed), next to the
//      same captures reaching a subscriber on A (same instance, Redis) and, on its own
//      hooklab, the same schedule on lowdb.
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Result } from 'autocannon';
import { type RedisServer, startRedis } from '../test/helpers/redis.ts';
import { cannon, CONNECTIONS, DURATION_S, ROUNDS, WARMUP_S } from './capture-throughput.ts';
import { connectSubscriber, createBin, getBin, type Hooklab, receiverUrl, startHooklab, type Subscriber } from './lib/hooklab.ts';
import { newAgent, request } from './lib/http.ts';
import { PAYLOAD, PAYLOAD_HEADERS } from './lib/payload.ts';
import { cpuMs, DISTURBED_PCT, machineCpu } from './lib/proc.ts';
import { addProfileWindow, monotonicUs } from './lib/profile.ts';
import { bestRound, disturbed, ratioGoal, spreadPct as spreadOf } from './lib/rounds.ts';
import type { Bench, BenchOptions, Goal } from './lib/result.ts';
import { round, summarize, type Summary } from './lib/stats.ts';
import { ms, x } from './lib/table.ts';
import { sleep, waitFor } from './lib/time.ts';

const CORES = os.cpus().length;
const CAP = 500; // hooklab's default MAX_REQUESTS_PER_BIN, as in the capture benchmark
/** At most this many extra rounds for a target with no undisturbed round (and only within the time budget). */
const EXTRA_ROUNDS = 2;
/** No extra round is started past this much time into the benchmark (the whole bench stays under ~6 min). */
const EXTRA_DEADLINE_MS = 4 * 60_000;
/** The Redis every hooklab on Redis uses: persistent as recommended (AOF, fsync every second), a fresh server per round. */
const REDIS_OPTS = { appendonly: true, appendfsync: 'everysec' } as const;
const PREFIX = 'bench:';

/** Live latency: captures measured, after warm-up ones, sent every LATENCY_INTERVAL_MS (open loop). */
const LATENCY_N = Number(process.env.BENCH_REDIS_LATENCY_N ?? 400);
const LATENCY_WARMUP = 50;
const LATENCY_INTERVAL_MS = 20; // 50 captures/s: a busy webhook sender, far from saturating
const EVENT_WAIT_MS = 5000;
/** Latency passes (lowdb + Redis) at most, while they are disturbed. */
const LATENCY_PASSES = 3;

type Target = 'lowdb' | 'redis' | 'redis x2';
const TARGETS: Target[] = ['lowdb', 'redis', 'redis x2'];
const LABEL: Record<Target, string> = {
  lowdb: 'one hooklab, lowdb (default)',
  redis: 'one hooklab, STORE=redis',
  'redis x2': 'two hooklabs, one Redis',
};

export interface RedisRun {
  round: number;
  target: Target;
  /** Sum over the autocannon runs (one per instance) of autocannon's mean of per-second samples. */
  reqPerSec: number;
  /** Per instance (A, B). */
  perInstance: number[];
  /** The worse of the instances' p50 / p99 (autocannon, whole ms). */
  p50Ms: number;
  p99Ms: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  /** The hooklab processes together, and redis-server, in % of one core. */
  hooklabCpuPct: number | null;
  redisCpuPct: number | null;
  /** CPU time per answered request, microseconds. */
  hooklabUsPerReq: number | null;
  redisUsPerReq: number | null;
  loadGenCpuPct: number;
  othersCpuPct: number | null;
  stealPct: number | null;
  liveEvents: number;
  eventsSettled: boolean;
  binRequestCount: number;
}

const r1 = (v: number) => round(v, 1);

/** CPU time used by several processes together (ms), null if one cannot be read. */
function cpuOf(pids: number[]): number | null {
  let t = 0;
  for (const p of pids) {
    const c = cpuMs(p);
    if (c === null) return null;
    t += c;
  }
  return t;
}

/** Measure CPU of the hooklabs, of redis-server, of this process and of everything else over a window. */
function cpuWindowOf(hooklabPids: number[], redisPid: number | null) {
  const h0 = cpuOf(hooklabPids);
  const r0 = redisPid === null ? 0 : cpuOf([redisPid]);
  const m = machineCpu();
  const s0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const wallMs = performance.now() - t0;
    const h1 = cpuOf(hooklabPids);
    const r1_ = redisPid === null ? 0 : cpuOf([redisPid]);
    const s = process.cpuUsage(s0);
    const mc = m();
    const hooklabMs = h0 !== null && h1 !== null ? h1 - h0 : null;
    const redisMs = r0 !== null && r1_ !== null ? r1_ - r0 : null;
    const hooklabPct = hooklabMs === null ? null : r1((hooklabMs / wallMs) * 100);
    const redisPct = redisMs === null || redisPid === null ? null : r1((redisMs / wallMs) * 100);
    const selfPct = r1(((s.user + s.system) / 1000 / wallMs) * 100);
    const othersPct = mc && hooklabPct !== null && (redisPct !== null || redisPid === null) ? Math.max(0, r1(mc.busyPct * CORES - hooklabPct - (redisPct ?? 0) - selfPct)) : null;
    const stealPct = mc ? r1(mc.stealPct * CORES) : null;
    return { wallMs, hooklabMs, redisMs, hooklabPct, redisPct, selfPct, othersPct, stealPct, disturbed: (othersPct ?? 0) + (stealPct ?? 0) > DISTURBED_PCT };
  };
}

/** n hooklabs: on lowdb (n = 1, redis null) or all on `redis`. */
async function startInstances(n: number, redis: RedisServer | null, profDirs: (string | null)[], label: string): Promise<Hooklab[]> {
  const env: Record<string, string> = { MAX_REQUESTS_PER_BIN: String(CAP) };
  // INSTANCE_URL is left unset: with PORT=0 it follows the address each instance bound.
  if (redis) Object.assign(env, { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: PREFIX });
  const started = await Promise.allSettled(
    Array.from({ length: n }, (_, i) =>
      startHooklab({
        label: `${label}${n > 1 ? ` ${'AB'[i]}` : ''}`,
        env,
        nodeArgs: profDirs[i] ? ['--cpu-prof', `--cpu-prof-dir=${profDirs[i]}`] : [],
      }),
    ),
  );
  const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(ok.map((h) => h.cleanup()));
    throw (failed as PromiseRejectedResult).reason;
  }
  return ok;
}

/**
 * redis-servers of this benchmark not yet cleaned up. test/helpers/redis.ts kills any still
 * running when the process exits (Ctrl-C included, through run.ts's handler); their temp
 * dirs are removed here then.
 */
const redisDirs = new Set<string>();
process.once('exit', () => {
  for (const d of redisDirs) {
    try {
      rmSync(d, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // best effort
    }
  }
});

async function newRedis(): Promise<RedisServer> {
  const r = await startRedis(REDIS_OPTS);
  redisDirs.add(r.dir);
  return r;
}

async function stopAll(instances: Hooklab[], redis: RedisServer | null) {
  // The hooklabs first (they flush and disconnect), then their Redis.
  await Promise.allSettled(instances.map((h) => h.cleanup()));
  if (redis) {
    await redis.cleanup();
    redisDirs.delete(redis.dir);
  }
}

async function runTarget(target: Target, roundNo: number, opts: BenchOptions): Promise<RedisRun> {
  const n = target === 'redis x2' ? 2 : 1;
  const key = target === 'lowdb' ? 'lowdb' : target === 'redis' ? 'one' : 'two';
  const profDirs = Array.from({ length: n }, (_, i) => (opts.profileDir ? path.join(opts.profileDir, `redis-${key}${n > 1 ? `-${'ab'[i]}` : ''}`) : null));
  let redis: RedisServer | null = null;
  let instances: Hooklab[] = [];
  let sub: Subscriber | null = null;
  try {
    if (target !== 'lowdb') redis = await newRedis();
    instances = await startInstances(n, redis, profDirs, LABEL[target]);
    const a = instances[0];
    const warmBin = await createBin(a.base, 'warm-up');
    const bin = await createBin(a.base, 'measured');
    sub = await connectSubscriber(a.base);
    await sub.subscribe(warmBin.id);
    await sub.subscribe(bin.id);
    const conns = Math.round(CONNECTIONS / n);
    opts.log(`  round ${roundNo}, ${LABEL[target]}: warm-up ${WARMUP_S} s, then ${DURATION_S} s at ${conns} connections${n > 1 ? ` to each of ${n}` : ''}`);
    if (WARMUP_S > 0) await Promise.all(instances.map((h) => cannon(receiverUrl(h.base, warmBin.id), WARMUP_S, { connections: conns })));
    await sleep(300);
    const stop = cpuWindowOf(instances.map((h) => h.proc.pid), redis?.pid ?? null);
    const fromUs = monotonicUs();
    const res: Result[] = await Promise.all(instances.map((h) => cannon(receiverUrl(h.base, bin.id), DURATION_S, { connections: conns })));
    const toUs = monotonicUs();
    const cpu = stop();
    for (const [i, d] of profDirs.entries()) if (d) await addProfileWindow(d, instances[i].proc.pid, { fromUs, toUs });
    const ok2xx = res.reduce((t, r) => t + r['2xx'], 0);
    const total = res.reduce((t, r) => t + r.requests.total, 0);
    // Events for requests answered at the very end may still be on the wire: wait until the
    // count stops moving (bounded).
    let last = -1;
    const s = sub;
    const eventsSettled = await waitFor(() => {
      const c = s.counts.get(bin.id) ?? 0;
      const stable = c === last && c >= ok2xx;
      last = c;
      return stable;
    }, 15_000, 250);
    return {
      round: roundNo,
      target,
      reqPerSec: res.reduce((t, r) => t + r.requests.average, 0),
      perInstance: res.map((r) => r.requests.average),
      p50Ms: Math.max(...res.map((r) => r.latency.p50)),
      p99Ms: Math.max(...res.map((r) => r.latency.p99)),
      ok2xx,
      non2xx: res.reduce((t, r) => t + r.non2xx, 0),
      errors: res.reduce((t, r) => t + r.errors, 0),
      hooklabCpuPct: cpu.hooklabPct,
      redisCpuPct: redis ? cpu.redisPct : null,
      hooklabUsPerReq: cpu.hooklabMs === null || total === 0 ? null : r1((cpu.hooklabMs * 1000) / total),
      redisUsPerReq: !redis || cpu.redisMs === null || total === 0 ? null : r1((cpu.redisMs * 1000) / total),
      loadGenCpuPct: cpu.selfPct,
      othersCpuPct: cpu.othersPct,
      stealPct: cpu.stealPct,
      liveEvents: sub.counts.get(bin.id) ?? 0,
      eventsSettled,
      binRequestCount: (await getBin(a.base, bin.id)).requestCount,
    };
  } finally {
    sub?.close();
    await stopAll(instances, redis);
  }
}

interface LatencyCase {
  name: string;
  event: Summary;
  missing: number;
}

interface LatencyRun {
  cases: LatencyCase[];
  rtt: Summary;
  failed: number;
  /** Measured captures sent per second (the schedule's rate as it came out). */
  ratePerSec: number;
  cpu: ReturnType<ReturnType<typeof cpuWindowOf>>;
}

/**
 * Send LATENCY_WARMUP + LATENCY_N captures to `url` on a fixed schedule (one every
 * LATENCY_INTERVAL_MS, not waiting for answers: open loop, up to 4 in flight on keep-alive
 * sockets); for each, the time from just before sending to its `request` event at each
 * subscriber (matched by the x-hooklab-request-id answer header, whichever comes first), and
 * the HTTP round trip.
 */
async function latencyRun(url: string, subs: { name: string; sub: Subscriber }[], cpuPids: { hooklab: number[]; redis: number | null }, log: (m: string) => void): Promise<LatencyRun> {
  const arrivals = subs.map(() => new Map<string, number>());
  subs.forEach(({ sub }, i) => {
    sub.onRequest = (r, at) => void arrivals[i].set(r.id, at);
  });
  const agent = newAgent(4);
  const sent = new Map<string, number>();
  const rtt: number[] = [];
  let failed = 0;
  let stop: (() => LatencyRun['cpu']) | null = null;
  const pending: Promise<void>[] = [];
  let t0Measured = 0;
  let tEndMeasured = 0;
  log(`  latency: ${LATENCY_WARMUP} warm-up + ${LATENCY_N} captures, one every ${LATENCY_INTERVAL_MS} ms`);
  try {
    const start = performance.now();
    for (let i = 0; i < LATENCY_WARMUP + LATENCY_N; i++) {
      const due = start + i * LATENCY_INTERVAL_MS;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (i === LATENCY_WARMUP) {
        stop = cpuWindowOf(cpuPids.hooklab, cpuPids.redis);
        t0Measured = performance.now();
      }
      const measured = i >= LATENCY_WARMUP;
      const t0 = performance.now();
      pending.push(
        request(url, { body: PAYLOAD, headers: PAYLOAD_HEADERS, agent, timeoutMs: 10_000 }).then(
          (res) => {
            const t1 = performance.now();
            if (res.status !== 200) {
              failed++;
              return;
            }
            if (!measured) return;
            sent.set(String(res.headers['x-hooklab-request-id'] ?? ''), t0);
            rtt.push(t1 - t0);
          },
          () => void failed++,
        ),
      );
    }
    tEndMeasured = performance.now();
    await Promise.all(pending);
    const all = () => arrivals.every((m) => [...sent.keys()].every((id) => m.has(id)));
    await waitFor(all, EVENT_WAIT_MS, 20);
    const cpu = stop!();
    const cases = subs.map(({ name }, i) => {
      const lat: number[] = [];
      let missing = 0;
      for (const [id, t0] of sent) {
        const at = arrivals[i].get(id);
        if (at === undefined) missing++;
        else lat.push(at - t0);
      }
      return { name, event: summarize(lat), missing };
    });
    return { cases, rtt: summarize(rtt), failed, ratePerSec: LATENCY_N / ((tEndMeasured - t0Measured) / 1000), cpu };
  } finally {
    agent.destroy();
    for (const { sub } of subs) sub.onRequest = null;
  }
}

/** Cross-instance and same-instance on Redis (two hooklabs, a subscriber on each, captures POSTed to A). */
async function latencyRedis(opts: BenchOptions): Promise<LatencyRun> {
  let redis: RedisServer | null = null;
  let instances: Hooklab[] = [];
  const subs: Subscriber[] = [];
  try {
    redis = await newRedis();
    const profDirs = [0, 1].map((i) => (opts.profileDir ? path.join(opts.profileDir, `redis-latency-${'ab'[i]}`) : null));
    instances = await startInstances(2, redis, profDirs, 'hooklab on Redis (latency)');
    const [a, b] = instances;
    const bin = await createBin(a.base, 'latency');
    for (const h of [a, b]) {
      const s = await connectSubscriber(h.base);
      subs.push(s);
      await s.subscribe(bin.id);
    }
    return await latencyRun(
      receiverUrl(a.base, bin.id),
      [
        { name: 'Redis, cross-instance: POST to A -> subscriber on B', sub: subs[1] },
        { name: 'Redis, same instance: POST to A -> subscriber on A', sub: subs[0] },
      ],
      { hooklab: instances.map((h) => h.proc.pid), redis: redis.pid },
      opts.log,
    );
  } finally {
    for (const s of subs) s.close();
    await stopAll(instances, redis);
  }
}

async function latencyLowdb(opts: BenchOptions): Promise<LatencyRun> {
  let instances: Hooklab[] = [];
  let sub: Subscriber | null = null;
  try {
    instances = await startInstances(1, null, [opts.profileDir ? path.join(opts.profileDir, 'redis-latency-lowdb') : null], 'hooklab on lowdb (latency)');
    const bin = await createBin(instances[0].base, 'latency');
    sub = await connectSubscriber(instances[0].base);
    await sub.subscribe(bin.id);
    return await latencyRun(receiverUrl(instances[0].base, bin.id), [{ name: 'lowdb, same instance (one hooklab)', sub }], { hooklab: [instances[0].proc.pid], redis: null }, opts.log);
  } finally {
    sub?.close();
    await stopAll(instances, null);
  }
}

const noise = (l: LatencyRun) => (l.cpu.othersPct ?? 0) + (l.cpu.stealPct ?? 0);
/** The first undisturbed pass; else the least disturbed. */
function pickLatency(passes: LatencyRun[]): LatencyRun {
  return passes.find((l) => !l.cpu.disturbed) ?? passes.reduce((a, b) => (noise(b) < noise(a) ? b : a));
}

const reqPerSec = (r: RedisRun) => r.reqPerSec;
const best = (runs: RedisRun[], target: Target) => bestRound(runs.filter((r) => r.target === target), reqPerSec);
const spreadPct = (runs: RedisRun[], target: Target) => spreadOf(runs.filter((r) => r.target === target), reqPerSec);

/** One Redis instance must keep at least this share of one lowdb instance's req/s. */
export const REDIS_VS_LOWDB = 0.5;
/** Cross-instance live latency, p99. */
export const CROSS_P99_MS = 20;

export const redisBench: Bench = async (opts) => {
  const t0 = performance.now();
  // 3. Live latency first: short. A pass (lowdb, then Redis) whose window was disturbed is
  // run again (bounded); the first undisturbed pass of each counts, else the least disturbed.
  const latPasses: { lowdb: LatencyRun; redis: LatencyRun }[] = [];
  for (let i = 1; i <= LATENCY_PASSES; i++) {
    const lowdb = await latencyLowdb(opts);
    const redis = await latencyRedis(opts);
    latPasses.push({ lowdb, redis });
    if (!lowdb.cpu.disturbed && !redis.cpu.disturbed) break;
    if (i < LATENCY_PASSES) opts.log(`  latency pass ${i} was disturbed (other + steal > ${DISTURBED_PCT}% of a core): again`);
  }
  const latLowdb = pickLatency(latPasses.map((p) => p.lowdb));
  const latRedis = pickLatency(latPasses.map((p) => p.redis));

  // 1 and 2: interleaved rounds.
  const runs: RedisRun[] = [];
  for (let r = 1; r <= ROUNDS; r++) for (const t of TARGETS) runs.push(await runTarget(t, r, opts));
  for (let r = ROUNDS + 1; r <= ROUNDS + EXTRA_ROUNDS; r++) {
    const missing = TARGETS.filter((t) => !runs.some((x) => x.target === t && !disturbed(x)));
    if (missing.length === 0) break;
    if (performance.now() - t0 > EXTRA_DEADLINE_MS) {
      opts.log(`  no undisturbed round yet for ${missing.join(', ')}, but no time left for an extra round`);
      break;
    }
    opts.log(`  no undisturbed round yet for ${missing.join(', ')}: extra round ${r}`);
    for (const t of missing) runs.push(await runTarget(t, r, opts));
  }

  const low = best(runs, 'lowdb');
  const one = best(runs, 'redis');
  const two = best(runs, 'redis x2');
  const noisy = (...rs: RedisRun[]) => rs.some(disturbed);
  // CPU-bound: what the ratio would be if each hooklab had a core to itself (hooklab process CPU per request).
  const vs = ratioGoal(one, low, reqPerSec, (r) => r.hooklabUsPerReq, REDIS_VS_LOWDB);
  const vsLowdb = vs.ratio;
  const twoVsOne = two.reqPerSec / one.reqPerSec;
  const lostOf = (r: RedisRun) => Math.max(0, r.ok2xx - r.liveEvents);
  const lost = runs.reduce((t, r) => t + lostOf(r), 0);
  const failures = runs.reduce((t, r) => t + r.non2xx + r.errors, 0);
  const storedOk = runs.every((r) => r.binRequestCount === Math.min(CAP, r.liveEvents));
  const settled = runs.every((r) => r.eventsSettled);
  const cross = latRedis.cases[0];
  const same = latRedis.cases[1];
  const lowLat = latLowdb.cases[0];
  const latMissing = cross.missing + same.missing + lowLat.missing + latRedis.failed + latLowdb.failed;

  const goals: Goal[] = [
    {
      name: 'one hooklab on Redis, req/s vs one on lowdb',
      target: `>= ${REDIS_VS_LOWDB.toFixed(2)}x`,
      value: vs.value,
      pass: vs.pass,
    },
    {
      name: 'live latency p99, POST to A -> subscriber on B (Redis)',
      target: `< ${CROSS_P99_MS} ms`,
      value: ms(cross.event.p99) + (latRedis.cpu.disturbed ? ' (!)' : '') + (latMissing ? `, ${latMissing} missing or failed` : ''),
      pass: cross.event.p99 < CROSS_P99_MS && latMissing === 0,
    },
    {
      name: 'lost requests, Redis rounds (non-2xx + errors + 2xx without live event)',
      target: '0',
      value: String(runs.filter((r) => r.target !== 'lowdb').reduce((t, r) => t + r.non2xx + r.errors + lostOf(r), 0)),
      pass: runs.filter((r) => r.target !== 'lowdb').every((r) => r.non2xx + r.errors + lostOf(r) === 0 && r.eventsSettled && r.binRequestCount === Math.min(CAP, r.liveEvents)),
    },
  ];

  const us = (v: number | null) => (v === null ? '-' : `${v.toFixed(1)} us`);
  const pct = (v: number | null) => (v === null ? '-' : `${Math.round(v)}%`);
  const row = (r: RedisRun) => [
    LABEL[r.target],
    Math.round(r.reqPerSec),
    r.perInstance.length > 1 ? r.perInstance.map((v) => Math.round(v).toLocaleString('en-US')).join(' + ') : '-',
    x(r.reqPerSec / low.reqPerSec),
    `${r.p50Ms} ms`,
    `${r.p99Ms} ms`,
    r.ok2xx,
    r.non2xx + r.errors,
    r.liveEvents,
    us(r.hooklabUsPerReq),
    us(r.redisUsPerReq),
    `${r.round}${disturbed(r) ? ' (!)' : ''}`,
  ];
  const latRow = (c: LatencyCase) => [c.name, c.event.n, ms(c.event.p50), ms(c.event.p99), ms(c.event.max), ms(c.event.mean), c.missing];
  const cpuNote = (name: string, l: LatencyRun) =>
    `${name}: hooklab ${pct(l.cpu.hooklabPct)}${l.cpu.redisPct !== null ? `, redis-server ${pct(l.cpu.redisPct)}` : ''}, this process ${pct(l.cpu.selfPct)}, other processes ${pct(l.cpu.othersPct)}` +
    (l.cpu.disturbed ? ` (!) other + steal above ${DISTURBED_PCT}%: a neighbour may have inflated the tail` : '');

  return {
    name: 'redis',
    title: `11. Redis store (STORE=redis): capture throughput (${PAYLOAD.length} B, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s, best of ${ROUNDS} rounds) and cross-instance live latency`,
    tables: [
      {
        title: 'Capture throughput: lowdb vs Redis, one and two instances',
        columns: ['target', 'req/s', 'per instance', 'vs lowdb', 'p50', 'p99', '2xx', 'non-2xx+err', 'live events', 'hooklab CPU/req', 'redis CPU/req', 'round'],
        rows: [low, one, two].map(row),
        notes: [
          `each target ran ${ROUNDS}x, interleaved (lowdb, Redis, Redis x2, lowdb, ...), each time fresh hooklab processes and, for Redis, a fresh redis-server (appendonly yes, appendfsync everysec, as recommended for keeping data); plus extra rounds (up to ${EXTRA_ROUNDS}, time permitting) for a target with no undisturbed round. The row is its fastest undisturbed round.`,
          `spread of the undisturbed rounds: lowdb ${spreadPct(runs, 'lowdb') ?? '-'}%, Redis ${spreadPct(runs, 'redis') ?? '-'}%, Redis x2 ${spreadPct(runs, 'redis x2') ?? '-'}%.`,
          `one live Socket.IO subscriber (websocket) in every target, on the first instance; with two instances, the captures made by B reach it through Redis (the capture feed). Two instances: two autocannon runs at once, ${Math.round(CONNECTIONS / 2)} connections each, one per instance; req/s is their sum, "per instance" A + B.`,
          `two instances vs one (same run): ${x(twoVsOne)}${noisy(two, one) ? ' (!)' : ''} (no goal). This machine has ${CORES} cores shared by the two hooklabs, redis-server and the load generator (this process), so a second instance mostly competes for the same CPU; the figure says what the Redis path costs when shared, not how it scales on separate machines.`,
          `lost, all ${runs.length} rounds: ${lost} 2xx without a live event, ${failures} non-2xx or errors; stored = min(cap ${CAP}, captures) every round: ${storedOk ? 'yes' : 'NO'}; events settled: ${settled ? 'yes' : 'NO'}.`,
          'hooklab CPU/req = CPU time of the hooklab process(es) / requests answered; redis CPU/req = the same for redis-server. The goal\'s CPU-bound fallback (used only when a compared round was disturbed) compares hooklab CPU/req alone.',
        ],
      },
      {
        title: `Live latency (${LATENCY_N} captures after ${LATENCY_WARMUP} warm-up, one every ${LATENCY_INTERVAL_MS} ms, send -> Socket.IO \`request\` event)`,
        columns: ['path', 'n', 'p50', 'p99', 'max', 'mean', 'missing'],
        rows: [
          latRow(cross),
          latRow(same),
          latRow(lowLat),
          ['HTTP round trip, Redis (baseline)', latRedis.rtt.n, ms(latRedis.rtt.p50), ms(latRedis.rtt.p99), ms(latRedis.rtt.max), ms(latRedis.rtt.mean), latRedis.failed],
          ['HTTP round trip, lowdb (baseline)', latLowdb.rtt.n, ms(latLowdb.rtt.p50), ms(latLowdb.rtt.p99), ms(latLowdb.rtt.max), ms(latLowdb.rtt.mean), latLowdb.failed],
        ],
        notes: [
          `Redis: two hooklabs on a fresh redis-server, a subscriber on each; every capture is POSTed to A, and both subscribers' arrival times are taken for the same captures (on Redis every instance, A included, hands captures to its viewers from the capture feed in Redis). lowdb: one hooklab, one subscriber, the same schedule, run first.`,
          `open loop: sent on a fixed schedule (measured rate ${Math.round(latRedis.ratePerSec)} / ${Math.round(latLowdb.ratePerSec)} captures/s), not waiting for answers (up to 4 keep-alive sockets); "missing" = no event within ${EVENT_WAIT_MS} ms after the last answer, or a failed POST (round-trip rows).`,
          `CPU (% of one core) during the measured captures: ${cpuNote('Redis', latRedis)}; ${cpuNote('lowdb', latLowdb)}.`,
          `passes: ${latPasses.length} (a disturbed pass is run again, up to ${LATENCY_PASSES}; shown: the first undisturbed pass of each store, else its least disturbed)` +
            (latPasses.length > 1
              ? `: cross-instance p99 per pass ${latPasses.map((p) => `${ms(p.redis.cases[0].event.p99)} (other ${pct(p.redis.cpu.othersPct)})`).join(', ')}; lowdb p99 ${latPasses.map((p) => `${ms(p.lowdb.cases[0].event.p99)} (other ${pct(p.lowdb.cpu.othersPct)})`).join(', ')}.`
              : '.'),
        ],
      },
      {
        title: 'All rounds',
        columns: ['round', 'target', 'req/s', 'hooklab CPU', 'redis CPU', 'loadgen CPU', 'other CPU', 'steal', 'hooklab CPU/req'],
        rows: runs.map((r) => [`${r.round}${disturbed(r) ? ' (!)' : ''}`, LABEL[r.target], Math.round(r.reqPerSec), pct(r.hooklabCpuPct), pct(r.redisCpuPct), pct(r.loadGenCpuPct), pct(r.othersCpuPct), pct(r.stealPct), us(r.hooklabUsPerReq)]),
        notes: [
          `CPU in % of one core (${CORES} cores = ${CORES * 100}%): hooklab = the hooklab process(es); redis = redis-server; loadgen = this process (autocannon + subscriber);`,
          `other = every other process on the machine (from /proc/stat); steal = time the hypervisor gave to other guests. A round where other + steal > ${DISTURBED_PCT}% is "disturbed" (!).`,
        ],
      },
    ],
    goals,
    data: {
      disturbedAbovePct: DISTURBED_PCT,
      redis: REDIS_OPTS,
      best: { lowdb: low.round, redis: one.round, redisX2: two.round },
      redisVsLowdb: round(vsLowdb, 3),
      redisVsLowdbCpuBound: round(vs.cpuBound, 3),
      twoVsOne: round(twoVsOne, 3),
      spreadPct: Object.fromEntries(TARGETS.map((t) => [t, spreadPct(runs, t)])),
      connections: CONNECTIONS,
      warmupS: WARMUP_S,
      durationS: DURATION_S,
      rounds: ROUNDS,
      payloadBytes: PAYLOAD.length,
      runs,
      lost,
      failures,
      storedOk,
      latency: {
        n: LATENCY_N,
        warmup: LATENCY_WARMUP,
        intervalMs: LATENCY_INTERVAL_MS,
        redis: latencyData(latRedis),
        lowdb: latencyData(latLowdb),
        passes: latPasses.map((p) => ({ redis: latencyData(p.redis), lowdb: latencyData(p.lowdb) })),
      },
    },
  };
};

function latencyData(l: LatencyRun) {
  const rnd = (s: Summary) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v, 3)]));
  return { cases: l.cases.map((c) => ({ name: c.name, event: rnd(c.event), missing: c.missing })), rtt: rnd(l.rtt), failed: l.failed, ratePerSec: round(l.ratePerSec, 1), cpu: l.cpu };
}
