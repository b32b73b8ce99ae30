// A latency probe on its own thread: one POST every `everyMs` (sequential, one keep-alive
// connection; a slow answer delays the next send) for `durationMs`. It runs in a worker so
// that the load generator on this process's main thread does not delay its timers or its
// reads (a separate event loop and heap; only the CPU is shared).
import { Worker } from 'node:worker_threads';

export interface ProbeSample {
  /** Send time, ms since the epoch (performance.timeOrigin + now(): comparable across threads). */
  at: number;
  ms: number;
  status: number;
}

const SOURCE = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { url, everyMs, durationMs, body, headers } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const buf = Buffer.from(body);
const now = () => performance.timeOrigin + performance.now();
function post() {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(buf.length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode || 0));
      res.on('error', () => resolve(-1));
    });
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(-1));
    req.end(buf);
  });
}
parentPort.postMessage('ready');
(async () => {
  const samples = [];
  const t0 = now();
  for (let i = 0; ; i++) {
    const slot = t0 + i * everyMs;
    if (slot - t0 >= durationMs) break;
    const wait = slot - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const at = now();
    const status = await post();
    samples.push({ at, ms: now() - at, status });
  }
  agent.destroy();
  parentPort.postMessage(samples);
})();
`;

/**
 * Start the probe; resolves once its thread is up and sending, with the promise of its
 * samples (after durationMs).
 */
export function startProbe(o: { url: string; everyMs: number; durationMs: number; body: Buffer; headers: Record<string, string> }): Promise<{ done: Promise<ProbeSample[]> }> {
  return new Promise((started, failedToStart) => {
    const w = new Worker(SOURCE, {
      eval: true,
      workerData: { url: o.url, everyMs: o.everyMs, durationMs: o.durationMs, body: o.body.toString('utf8'), headers: o.headers },
    });
    w.unref(); // never what keeps the bench process alive (e.g. after a crash)
    let isUp = false;
    const done = new Promise<ProbeSample[]>((resolve, reject) => {
      const t = setTimeout(() => {
        void w.terminate();
        reject(new Error('probe: no result'));
      }, o.durationMs + 60_000);
      w.on('message', (m: 'ready' | ProbeSample[]) => {
        if (m === 'ready') {
          isUp = true;
          started({ done });
          return;
        }
        clearTimeout(t);
        void w.terminate();
        resolve(m);
      });
      w.once('error', (e) => {
        clearTimeout(t);
        if (!isUp) failedToStart(e);
        reject(e);
      });
    });
    done.catch(() => {}); // handled by whoever awaits it
  });
}

/** performance.now() of this thread as ms since the epoch (comparable with ProbeSample.at). */
export const epochNow = () => performance.timeOrigin + performance.now();
