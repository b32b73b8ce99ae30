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
  close(): void;
}

// From source (tsx) the worker is the .ts file next to this one; compiled, the .js file.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './send-worker.ts' : './send-worker.js', import.meta.url);

export function createWorkerSender(init: Omit<WorkerInit, 'publicUrl'>, publicUrl: () => string): WorkerSender {
  const waiting = new Map<number, (r: SendResult) => void>();
  let nextId = 0;
  let outbox: { id: number; req: SendRequest }[] = [];
  let flushScheduled = false;
  let closed = false;
  let lastUrl = publicUrl();
  let worker = start();

  function start(): Worker {
    const w = new Worker(WORKER_URL, { workerData: { ...init, publicUrl: lastUrl } satisfies WorkerInit });
    w.on('message', (batch: { id: number; res: SendResult }[]) => {
      for (const { id, res } of batch) {
        waiting.get(id)?.(res);
        waiting.delete(id);
      }
    });
    w.on('exit', () => {
      if (closed) return;
      // Whatever it had in hand is lost: report those attempts as failed; start another.
      for (const [id, resolve] of waiting) {
        resolve({ status: null, error: 'error', errorDetail: 'the sender thread stopped; the attempt will be retried', durationMs: 0, headers: [], body: '', bodyTruncated: false });
        waiting.delete(id);
      }
      worker = start();
    });
    w.on('error', () => {}); // followed by 'exit'
    w.unref();
    return w;
  }

  const flush = () => {
    flushScheduled = false;
    const url = publicUrl();
    if (url !== lastUrl) {
      lastUrl = url;
      worker.postMessage({ type: 'publicUrl', value: url } satisfies WorkerMessage);
    }
    const batch = outbox;
    outbox = [];
    worker.postMessage({ type: 'send', batch } satisfies WorkerMessage);
  };

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
    close() {
      closed = true;
      worker.postMessage({ type: 'close' } satisfies WorkerMessage);
      void worker.terminate();
    },
  };
}
