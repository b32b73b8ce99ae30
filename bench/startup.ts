// Benchmark 7: start-up on a full DATA_DIR. 100 bins x 500 captures of 10 KiB bodies are
// captured over HTTP into one hooklab, which is then stopped cleanly (SIGTERM). Then hooklab
// is started on that DATA_DIR 3 times, interleaved with 3 starts on an empty DATA_DIR (the
// baseline): spawn -> "listening" line, spawn -> first 200 of /api/health, and meanwhile a
// probe POSTs to a receiver URL every few ms: while the data loads it must get 503 with
// Retry-After, never "connection refused".
import type { Bin } from '../shared/api.ts';
import type { Bench, Goal } from './lib/result.ts';
import { SERVER_NODE_FLAGS } from '../server/node-flags.ts';
import { createBin, dirSize, hooklabScript, newDataDir, receiverUrl, removeDataDir, startHooklab } from './lib/hooklab.ts';
import { api, fire, newAgent, request } from './lib/http.ts';
import { PAYLOAD, PAYLOAD_HEADERS } from './lib/payload.ts';
import { type CpuWindow, cpuWindow, DISTURBED_PCT, rssBytes, spawnServer } from './lib/proc.ts';
import { median, round } from './lib/stats.ts';
import { mb, ms, x } from './lib/table.ts';
import { sleep, waitFor } from './lib/time.ts';

const BINS = 100;
const PER_BIN = 500; // the default cap
const BODY_BYTES = 10 * 1024;
const CONCURRENCY = 32;
const STARTS = 3;
const PROBE_EVERY_MS = 5;
const READY_GOAL_MS = 2000;

/** A 10 KiB JSON body: the sync_end event with its `details` padded. */
const BODY = (() => {
  const ev = JSON.parse(PAYLOAD.toString()) as Record<string, unknown>;
  const base = JSON.stringify({ ...ev, details: '' }).length;
  const unit = String(ev.details) + ' ';
  ev.details = unit.repeat(Math.ceil(BODY_BYTES / unit.length)).slice(0, BODY_BYTES - base);
  return Buffer.from(JSON.stringify(ev));
})();

interface Start {
  dir: 'full' | 'empty';
  listenMs: number;
  readyMs: number;
  /** When the "hooklab ready on" line arrived, from spawn. */
  readyLineMs: number | null;
  /** loadMs as hooklab logs it in its "ready" line. */
  serverLoadMs: number | null;
  rss: number | null;
  bins: number;
  requests: number;
  /** From the "listening" line to ready. */
  cpu: CpuWindow;
  probe: { sent: number; busy503: number; busy503NoRetryAfter: number; refused: number; otherErrors: number; firstAnswer: string | null; firstAnswerMs: number | null };
}

async function probedStart(dataDir: string, dir: 'full' | 'empty', binId: string): Promise<Start> {
  let readyLineAt: number | null = null;
  let serverLoadMs: number | null = null;
  let out = '';
  const t0 = performance.now();
  const proc = await spawnServer({
    script: hooklabScript(),
    nodeArgs: [...SERVER_NODE_FLAGS],
    label: `hooklab (${dir} start)`,
    env: { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir },
    startTimeoutMs: 30_000,
    onOutput: (s, stream, at) => {
      if (stream !== 'stdout' || readyLineAt !== null) return;
      out += s;
      const m = /hooklab ready on [^\n]*/.exec(out);
      if (m) {
        readyLineAt = at;
        const l = /"loadMs":(\d+)/.exec(m[0]);
        serverLoadMs = l ? Number(l[1]) : null;
      }
    },
  });
  const stopCpu = cpuWindow(proc.pid);
  try {
    const listenMs = performance.now() - t0;
    const probe: Start['probe'] = { sent: 0, busy503: 0, busy503NoRetryAfter: 0, refused: 0, otherErrors: 0, firstAnswer: null, firstAnswerMs: null };
    let ready = false;
    const agent = newAgent(1);
    // The probe: one small capture every PROBE_EVERY_MS to a receiver URL until it is answered
    // by something other than "starting" (or /api/health says ready).
    const probing = (async () => {
      const url = receiverUrl(proc.url, binId);
      for (let i = 0; i < 10_000 && probe.firstAnswer === null; i++) {
        const t = performance.now();
        probe.sent++;
        try {
          const r = await request(url, { body: PAYLOAD, headers: PAYLOAD_HEADERS, agent, timeoutMs: 5000 });
          if (r.status === 503) {
            if (r.headers['retry-after']) probe.busy503++;
            else probe.busy503NoRetryAfter++;
            if (ready) break;
          } else {
            probe.firstAnswer = String(r.status);
            probe.firstAnswerMs = performance.now() - t0;
          }
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') probe.refused++;
          else probe.otherErrors++;
          if (ready) break;
        }
        await sleep(PROBE_EVERY_MS - (performance.now() - t));
      }
    })();
    const ok = await waitFor(async () => {
      try {
        await api(proc.url, 'GET', '/api/health', undefined, 2000);
        return true;
      } catch {
        return false;
      }
    }, 60_000, 5);
    const readyMs = performance.now() - t0;
    const cpu = stopCpu();
    ready = true;
    await probing;
    agent.destroy();
    if (!ok) throw new Error(`hooklab (${dir} start): /api/health never answered 200\n${proc.stderrTail()}`);
    await waitFor(() => readyLineAt !== null, 2000, 10);
    const { bins } = await api<{ bins: Bin[] }>(proc.url, 'GET', '/api/bins');
    await sleep(1000);
    return {
      dir,
      listenMs,
      readyMs,
      readyLineMs: readyLineAt === null ? null : readyLineAt - t0,
      serverLoadMs,
      rss: rssBytes(proc.pid),
      bins: bins.length,
      requests: bins.reduce((t, b) => t + b.requestCount, 0),
      probe,
      cpu,
    };
  } finally {
    const code = await proc.stop();
    if (code !== 0) throw new Error(`hooklab (${dir} start) exited with ${code} on SIGTERM\n${proc.stderrTail()}`);
  }
}

export const startupBench: Bench = async ({ log }) => {
  const fullDir = await newDataDir();
  const emptyDir = await newDataDir();
  try {
    // Build the data dir over HTTP.
    const hl = await startHooklab({ dataDir: fullDir });
    let buildMs = 0;
    let bin0 = '';
    let built: { bins: number; requests: number };
    let stopCode: number | null;
    let buildCpu: CpuWindow | null = null;
    try {
      const ids: string[] = [];
      for (let i = 0; i < BINS; i++) ids.push((await createBin(hl.base, `startup ${i}`)).id);
      bin0 = ids[0];
      const urls = ids.map((id) => receiverUrl(hl.base, id));
      log(`  startup: capturing ${BINS} x ${PER_BIN} bodies of ${BODY.length} B (${CONCURRENCY} in flight)`);
      const stop = cpuWindow(hl.proc.pid);
      const t0 = performance.now();
      const r = await fire((i) => urls[i % BINS], BINS * PER_BIN, CONCURRENCY, BODY, { 'content-type': 'application/json' });
      buildMs = performance.now() - t0;
      buildCpu = stop();
      if (r.ok !== BINS * PER_BIN) throw new Error(`build: ${r.ok} of ${BINS * PER_BIN} captures answered 2xx (${JSON.stringify(r.statuses)})`);
      const { bins } = await api<{ bins: Bin[] }>(hl.base, 'GET', '/api/bins');
      built = { bins: bins.length, requests: bins.reduce((t, b) => t + b.requestCount, 0) };
    } finally {
      stopCode = await hl.stop();
    }
    if (stopCode !== 0) throw new Error(`build: hooklab exited with ${stopCode} on SIGTERM\n${hl.proc.stderrTail()}`);
    const disk = await dirSize(fullDir);

    log(`  startup: ${STARTS} starts on the ${mb(disk)} data dir, interleaved with ${STARTS} on an empty one`);
    const starts: Start[] = [];
    for (let i = 0; i < STARTS; i++) {
      starts.push(await probedStart(fullDir, 'full', bin0));
      starts.push(await probedStart(emptyDir, 'empty', bin0));
    }
    const full = starts.filter((s) => s.dir === 'full');
    const empty = starts.filter((s) => s.dir === 'empty');
    const med = (ss: Start[], f: (s: Start) => number | null) => median(ss.map(f).filter((v): v is number => v !== null));
    const readyFull = med(full, (s) => s.readyMs);
    const readyEmpty = med(empty, (s) => s.readyMs);
    const allLoaded = full.every((s) => s.bins === BINS && s.requests === BINS * PER_BIN);
    const refused = starts.reduce((t, s) => t + s.probe.refused, 0);
    const busy = full.reduce((t, s) => t + s.probe.busy503, 0);
    const noRetry = starts.reduce((t, s) => t + s.probe.busy503NoRetryAfter, 0);
    const goals: Goal[] = [
      {
        name: `ready on ${BINS} bins x ${PER_BIN} captures of 10 KiB (spawn -> /api/health 200, median of ${STARTS})`,
        target: `< ${READY_GOAL_MS / 1000} s`,
        value: `${ms(readyFull)} (${x(readyFull / readyEmpty)} of an empty start)`,
        pass: readyFull < READY_GOAL_MS && allLoaded,
      },
    ];
    const row = (label: string, f: (s: Start) => number | null, fmt: (v: number) => string = ms) => {
      const a = med(full, f);
      const b = med(empty, f);
      return [label, fmt(a), fmt(b), x(a / b), full.map((s) => (f(s) === null ? '-' : fmt(f(s)!) + (s.cpu.disturbed ? ' (!)' : ''))).join(' / ')];
    };
    return {
      name: 'startup',
      title: `7. Start-up on a full DATA_DIR (${BINS} bins x ${PER_BIN} captures of ${BODY.length} B, ${STARTS} starts, median)`,
      tables: [
        {
          title: '',
          columns: ['figure', 'full DATA_DIR', 'empty DATA_DIR (baseline)', 'ratio', 'full, each start'],
          rows: [
            row('spawn -> "listening" line', (s) => s.listenMs),
            row('spawn -> /api/health 200 (ready)', (s) => s.readyMs),
            row('spawn -> "ready" line', (s) => s.readyLineMs),
            row('load time as hooklab logs it (loadMs)', (s) => s.serverLoadMs),
            row('RSS 1 s after ready', (s) => s.rss, (v) => mb(v)),
          ],
          notes: [
            `DATA_DIR: ${built!.bins} bins, ${built!.requests} captures of ${BODY.length} B (JSON), captured over HTTP (${CONCURRENCY} in flight) in ${ms(buildMs)} ` +
              `(${Math.round((BINS * PER_BIN) / (buildMs / 1000))} captures/s, other CPU ${Math.round(buildCpu?.othersPct ?? 0)}%${buildCpu?.disturbed ? ' (!)' : ''}), then SIGTERM (exit ${stopCode}); ${mb(disk)} on disk.`,
            `other CPU while loading (from the "listening" line to ready), full dir: ${full.map((s) => `${Math.round(s.cpu.othersPct ?? 0)}%`).join(' / ')}; (!) above ${DISTURBED_PCT}% of a core: that start may have been slowed by a neighbour.`,
            `each start loaded everything (${BINS} bins, ${BINS * PER_BIN} requests): ${allLoaded ? 'yes' : `NO (${full.map((s) => `${s.bins}/${s.requests}`).join(', ')})`}.`,
            'start-up = spawn of `node dist/server/server/main.js` (a fresh process each time, starts on the full and the empty dir interleaved). The page cache holds the data (it was just written): a cold disk would be slower.',
            `probe during start-up: once the "listening" line is out, one POST to a receiver URL every ${PROBE_EVERY_MS} ms until it is answered by anything else than 503 (or /api/health says ready). ` +
              `Full dir: ${full.map((s) => s.probe.busy503).join(' / ')} answers 503 with Retry-After (first other answer: ${full.map((s) => s.probe.firstAnswer ?? '-').join(' / ')}); ` +
              `empty dir: ${empty.map((s) => s.probe.busy503).join(' / ')}. Over all ${starts.length} starts: ${refused} connection refused, ${noRetry} 503 without Retry-After, ` +
              `${starts.reduce((t, s) => t + s.probe.otherErrors, 0)} other errors.`,
          ],
        },
      ],
      goals,
      data: {
        bins: BINS,
        perBin: PER_BIN,
        bodyBytes: BODY.length,
        buildMs: round(buildMs, 0),
        diskBytes: disk,
        starts: starts.map((s) => ({ ...s, listenMs: round(s.listenMs, 1), readyMs: round(s.readyMs, 1), readyLineMs: s.readyLineMs === null ? null : round(s.readyLineMs, 1) })),
        readyMs: { full: round(readyFull, 1), empty: round(readyEmpty, 1) },
        probe503WithRetryAfter: busy,
        probeRefused: refused,
        allLoaded,
      },
    };
  } finally {
    await removeDataDir(fullDir);
    await removeDataDir(emptyDir);
  }
};
