// The main thread's side of send-worker.ts: a Send that hands attempts to the worker and
// resolves with their results. If the worker dies, what it had in hand fails as an attempt
// error (the schedule retries it) and a new worker starts.
import { Worker } from 'node:worker_threads';
import type { OutboundPolicyOptions } from '../net/outbound-policy.ts';
import type { Send, SendRequest, SendResult } from './send.ts';

export interface WorkerInit {
  maxResponseBytes: number;
  /** null: no policy (anything goes). publicUrl travels separately: it is known after listen. */
  policy: Omit<OutboundPolicyOptions, 'publicUrl'> | null;
  publicUrl: string;
}

export type WorkerMessage =
  | { type: 'send'; batch: { id: number; req: SendRequest }[] }
  | { type: 'publicUrl'; value: string }
  | { type: 'close' };

export interface WorkerSender {
  send: Send;
  /** Why the sender thread is not running right now (for health), or null while it is. */
  fault(): SenderFault | null;
  close(): void;
}

export interface SenderFault {
  code: 'sender_stopped';
  message: string;
  since: string;
}

export interface WorkerSenderOptions {
  /** Restart delays after a crash: doubling from min to max; reset once a thread lived stableMs. */
  restartMinMs?: number;
  restartMaxMs?: number;
  stableMs?: number;
  /** Told once per crash (the server logs it). */
  onCrash?: (message: string) => void;
  /** Starts a thread (tests start one that fails). */
  spawn?: (workerData: WorkerInit) => Worker;
}

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './send-worker.ts' : './send-worker.js', import.meta.url);

// From source (tsx) a worker does not inherit the main thread's TypeScript loader: the thread
// starts from a bootstrap that registers tsx first, then imports the .ts worker.
function spawn(workerData: WorkerInit): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(code, { eval: true, workerData });
}

export function createWorkerSender(init: Omit<WorkerInit, 'publicUrl'>, publicUrl: () => string, opts: WorkerSenderOptions = {}): WorkerSender {
  const minDelay = opts.restartMinMs ?? 100;
  const maxDelay = opts.restartMaxMs ?? 30_000;
  const stableMs = opts.stableMs ?? 10_000;
  const waiting = new Map<number, (r: SendResult) => void>();
  let nextId = 0;
  let outbox: { id: number; req: SendRequest }[] = [];
  let flushScheduled = false;
  let closed = false;
  let lastUrl = publicUrl();
  let delay = minDelay;
  let crash: SenderFault | null = null;
  let restartTimer: NodeJS.Timeout | null = null;
  let worker: Worker | null = start();

  function failWaiting() {
    for (const [id, resolve] of waiting) {
      resolve({ status: null, error: 'error', errorDetail: 'the sender thread stopped; the attempt will be retried', durationMs: 0, headers: [], body: '', bodyTruncated: false });
      waiting.delete(id);
    }
  }

  function start(): Worker {
    const startedAt = Date.now();
    let lastError = 'exited';
    const w = (opts.spawn ?? spawn)({ ...init, publicUrl: lastUrl });
    w.on('message', (batch: { id: number; res: SendResult }[]) => {
      for (const { id, res } of batch) {
        waiting.get(id)?.(res);
        waiting.delete(id);
      }
    });
    w.on('error', (err) => {
      lastError = err instanceof Error ? err.message : String(err); // followed by 'exit'
    });
    w.on('exit', (code) => {
      worker = null;
      if (closed) return; // shutting down: attempts in hand are re-sent on the next start
      // Whatever it had in hand is lost: report those attempts as failed (the schedule retries).
      failWaiting();
      // A thread that crashes at start would otherwise restart in a hot loop: back off, and
      // say so in health until one runs again.
      delay = Date.now() - startedAt >= stableMs ? minDelay : Math.min(maxDelay, delay * 2);
      const message = `the dispatcher's sender thread stopped (exit code ${code}: ${lastError}); restarting in ${delay} ms`;
      crash = { code: 'sender_stopped', message, since: crash?.since ?? new Date().toISOString() };
      opts.onCrash?.(message);
      restartTimer = setTimeout(() => {
        restartTimer = null;
        worker = start();
        flush();
      }, delay);
      restartTimer.unref();
    });
    // 'online' comes before the worker's module has loaded (a broken import fails after it):
    // a thread counts as running again once it has lived a moment.
    const alive = setTimeout(() => {
      if (worker === w) crash = null;
    }, Math.min(stableMs, 1000));
    alive.unref();
    w.on('exit', () => clearTimeout(alive));
    w.unref();
    return w;
  }

  function flush() {
    flushScheduled = false;
    if (!worker || outbox.length === 0) return; // held until a thread runs again
    const url = publicUrl();
    if (url !== lastUrl) {
      lastUrl = url;
      worker.postMessage({ type: 'publicUrl', value: url } satisfies WorkerMessage);
    }
    const batch = outbox;
    outbox = [];
    worker.postMessage({ type: 'send', batch } satisfies WorkerMessage);
  }

  return {
    send: (req) =>
      new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        outbox.push({ id, req });
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      }),
    fault: () => crash,
    close() {
      closed = true;
      if (restartTimer) clearTimeout(restartTimer);
      outbox = [];
      if (!worker) return;
      worker.postMessage({ type: 'close' } satisfies WorkerMessage);
      void worker.terminate();
    },
  };
}
