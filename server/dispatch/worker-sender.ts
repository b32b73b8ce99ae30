// The main thread's side of send-worker.ts: a Send that hands attempts to the worker (in
// batches, lib/batched-worker.ts) and resolves with their results. If the worker dies, what it
// had in hand fails as an attempt error (the schedule retries it) and a new worker starts.
import type { Worker } from 'node:worker_threads';
import { BatchedWorker, type WorkerFault } from '../lib/batched-worker.ts';
import { ownBytes } from '../lib/own-bytes.ts';
import type { OutboundPolicyOptions } from '../net/outbound-policy.ts';
import type { Send, SendRequest, SendResult } from './send.ts';

export interface WorkerInit {
  maxResponseBytes: number;
  /** null: no policy (anything goes). publicUrl travels separately: it is known after listen. */
  policy: Omit<OutboundPolicyOptions, 'publicUrl'> | null;
  publicUrl: string;
}

/** Besides the batches of attempts (lib/batched-worker.ts): PUBLIC_URL once known. */
export type WorkerMessage = { type: 'publicUrl'; value: string };

export interface WorkerSender {
  send: Send;
  /** Why the sender thread is not running right now (for health), or null while it is. */
  fault(): SenderFault | null;
  close(): void;
}

export type SenderFault = WorkerFault;

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

export function createWorkerSender(init: Omit<WorkerInit, 'publicUrl'>, publicUrl: () => string, opts: WorkerSenderOptions = {}): WorkerSender {
  let lastUrl = publicUrl();
  const worker = new BatchedWorker<WorkerInit, SendRequest, SendResult>({
    url: WORKER_URL,
    name: "the dispatcher's sender thread",
    faultCode: 'sender_stopped',
    init: () => ({ workerData: { ...init, publicUrl: (lastUrl = publicUrl()) } }),
    // The schedule retries an attempt that failed this way.
    lost: () => ({ status: null, error: 'error', errorDetail: 'the sender thread stopped; the attempt will be retried', durationMs: 0, headers: [], body: '', bodyTruncated: false }),
    onCrash: opts.onCrash,
    restartMinMs: opts.restartMinMs,
    restartMaxMs: opts.restartMaxMs,
    stableMs: opts.stableMs,
    spawn: opts.spawn && ((_url, data) => opts.spawn!(data)),
  });
  return {
    send(req) {
      // Known after listen: the thread hears of a change before the next attempts.
      const url = publicUrl();
      if (url !== lastUrl) {
        lastUrl = url;
        worker.control({ type: 'publicUrl', value: url } satisfies WorkerMessage);
      }
      const body = ownBytes(req.body);
      return worker.call(body === req.body ? req : { ...req, body });
    },
    fault: () => worker.fault(),
    close: () => worker.close(),
  };
}
