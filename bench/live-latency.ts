// Benchmark 2: live latency. One Socket.IO subscriber (websocket) on a bin; 1,000 POSTs sent
// one after another over one keep-alive connection. For each: time from just before sending
// to the subscriber's `request` event (matched by the x-hooklab-request-id response header),
// and, as the baseline, the plain HTTP round trip of the same request (send -> response).
import path from 'node:path';
import type { Bench, Goal } from './lib/result.ts';
import { connectSubscriber, createBin, receiverUrl, startHooklab } from './lib/hooklab.ts';
import { newAgent, request } from './lib/http.ts';
import { PAYLOAD, PAYLOAD_HEADERS } from './lib/payload.ts';
import { type CpuWindow, cpuWindow, DISTURBED_PCT } from './lib/proc.ts';
import { round, summarize } from './lib/stats.ts';
import { ms, x } from './lib/table.ts';

const N = Number(process.env.BENCH_LATENCY_N ?? 1000);
const WARMUP = 200;
const EVENT_WAIT_MS = 5000;

export const liveLatency: Bench = async ({ log, profileDir }) => {
  const hl = await startHooklab({
    nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, 'latency')}`] : [],
  });
  const agent = newAgent(1);
  try {
    const bin = await createBin(hl.base, 'latency');
    const sub = await connectSubscriber(hl.base);
    try {
      await sub.subscribe(bin.id);
      const arrived = new Map<string, number>();
      let waiting: { id: string; resolve: (at: number) => void } | null = null;
      sub.onRequest = (r, at) => {
        if (waiting && waiting.id === r.id) {
          const w = waiting;
          waiting = null;
          w.resolve(at);
        } else arrived.set(r.id, at);
      };
      const url = receiverUrl(hl.base, bin.id);
      const event: number[] = [];
      const rtt: number[] = [];
      let missing = 0;
      let eventBeforeResponse = 0;
      log(`  latency: ${WARMUP} warm-up + ${N} sequential requests`);
      let stopCpu: (() => CpuWindow) | null = null;
      for (let i = 0; i < WARMUP + N; i++) {
        if (i === WARMUP) stopCpu = cpuWindow(hl.proc.pid);
        const t0 = performance.now();
        const res = await request(url, { body: PAYLOAD, headers: PAYLOAD_HEADERS, agent, timeoutMs: 10_000 });
        const t1 = performance.now();
        if (res.status !== 200) throw new Error(`capture answered ${res.status}`);
        const id = String(res.headers['x-hooklab-request-id'] ?? '');
        let at = arrived.get(id);
        if (at !== undefined) {
          arrived.delete(id);
          if (at <= t1) eventBeforeResponse += i >= WARMUP ? 1 : 0;
        } else {
          at = await new Promise<number>((resolve) => {
            const t = setTimeout(() => {
              waiting = null;
              resolve(NaN);
            }, EVENT_WAIT_MS);
            waiting = { id, resolve: (a) => (clearTimeout(t), resolve(a)) };
          });
        }
        if (i < WARMUP) continue;
        rtt.push(t1 - t0);
        if (Number.isNaN(at)) missing++;
        else event.push(at - t0);
      }
      const cpu = stopCpu!();
      const ev = summarize(event);
      const rt = summarize(rtt);
      const goals: Goal[] = [
        { name: 'live event latency p99', target: '< 10 ms', value: ms(ev.p99) + (cpu.disturbed ? ' (!)' : ''), pass: ev.p99 < 10 && missing === 0 },
      ];
      return {
        name: 'latency',
        title: `2. Live latency (${N} sequential POSTs after ${WARMUP} warm-up, one websocket subscriber)`,
        tables: [
          {
            title: '',
            columns: ['measure', 'n', 'p50', 'p99', 'max', 'mean'],
            rows: [
              ['send -> live `request` event', ev.n, ms(ev.p50), ms(ev.p99), ms(ev.max), ms(ev.mean)],
              ['send -> HTTP response (baseline)', rt.n, ms(rt.p50), ms(rt.p99), ms(rt.max), ms(rt.mean)],
              ['ratio event / response', '', x(ev.p50 / rt.p50), x(ev.p99 / rt.p99), x(ev.max / rt.max), x(ev.mean / rt.mean)],
            ],
            notes: [
              `events missing after ${EVENT_WAIT_MS} ms: ${missing}; events that arrived before the HTTP response: ${eventBeforeResponse} of ${ev.n} (hooklab emits, then answers).`,
              `rate: sequential, about ${Math.round(1000 / rt.mean)} req/s over one keep-alive connection.`,
              `CPU during the 1,000 (% of one core): hooklab ${cpu.serverPct ?? '-'}%, this process ${cpu.selfPct}%, other processes ${cpu.othersPct ?? '-'}%` +
                (cpu.disturbed ? ` (!) above ${DISTURBED_PCT}%: a neighbour may have inflated the tail.` : '.'),
            ],
          },
        ],
        goals,
        data: {
          n: N,
          warmup: WARMUP,
          event: mapRound(ev),
          httpRoundTrip: mapRound(rt),
          missing,
          eventBeforeResponse,
          cpu,
        },
      };
    } finally {
      sub.close();
    }
  } finally {
    agent.destroy();
    await hl.cleanup();
  }
};

function mapRound(o: object) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? round(v, 3) : v]));
}
