// The main thread's side of forward-thread.ts: exchanges handed to the forwarding thread in
// batches, their results back as ForwardResults. A thread that dies fails what it had in hand
// (recorded as errors with the capture) and is restarted (lib/batched-worker.ts).
import type { OutboundPolicyOptions } from '../net/outbound-policy.ts';
import { BatchedWorker, type WorkerFault } from '../lib/batched-worker.ts';
import { ownBytes } from '../lib/own-bytes.ts';
import type { ForwardCall, ForwardThreadInit } from './forward-thread.ts';
import type { ForwardResult } from './request.ts';
import { decodeResult, encodeCall, encodeResult, type WireCall, type WireResult } from './wire.ts';
import type { SelfConnections } from './self-connections.ts';

export interface ForwardThreadOptions {
  policy: Omit<OutboundPolicyOptions, 'publicUrl'> | null;
  publicUrl: () => string;
  timeoutMs: number;
  maxResponseBytes: number;
  connectionsPerOrigin: number;
  /** Told the sockets the thread's forwards go out on (loop detection). */
  self?: SelfConnections;
  onCrash?: (message: string) => void;
}

export interface ForwardThread {
  exchange(call: ForwardCall): Promise<ForwardResult>;
  /** Why the forwarding thread is not running right now, or null. */
  fault(): WorkerFault | null;
  close(): void;
}

/**
 * Background forwards may wait this long to go (and come back) with others, up to BATCH_MAX in
 * a batch: a few ms against ~145 µs of CPU per message that wakes a thread (at 8,000
 * captures/s a batch holds ~80 forwards, ~2 µs each per side; at 4 ms it held ~32). Proxied
 * and replayed ones go at once.
 */
const BATCH_DELAY_MS = 10;
const BATCH_MAX = 256;

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './forward-thread.ts' : './forward-thread.js', import.meta.url);

/** The thread starts with the first forward or replay: most hooklabs forward nothing. */
export function startForwardThread(o: ForwardThreadOptions): ForwardThread {
  let worker: BatchedWorker<ForwardThreadInit, WireCall, WireResult> | null = null;
  // Calls and answers cross as arrays (see wire.ts).
  const start = () => new BatchedWorker<ForwardThreadInit, WireCall, WireResult>({
    url: WORKER_URL,
    name: 'the forwarding thread',
    faultCode: 'forwarder_stopped',
    batchDelayMs: BATCH_DELAY_MS,
    batchMax: BATCH_MAX,
    init: () => {
      // A thread that died took its forwards with it: their notes go too.
      o.self?.clear();
      const workerData: ForwardThreadInit = {
        policy: o.policy,
        publicUrl: o.publicUrl(),
        timeoutMs: o.timeoutMs,
        maxResponseBytes: o.maxResponseBytes,
        connectionsPerOrigin: o.connectionsPerOrigin,
        batchDelayMs: BATCH_DELAY_MS,
        batchMax: BATCH_MAX,
        selfTable: o.self?.shared ?? null,
      };
      return { workerData };
    },
    lost: ([href]) =>
      encodeResult({
        url: href,
        status: null,
        headers: [],
        body: Buffer.alloc(0),
        bodyTruncated: false,
        durationMs: 0,
        error: 'error',
        errorDetail: 'the forwarding thread stopped before the answer came',
      }),
    onCrash: o.onCrash,
  });
  return {
    exchange: (call) => {
      const wire = encodeCall(call);
      // A capture's body is its own buffer already (no copy); an edited replay's may be a pool view.
      wire[8] = ownBytes(call.c.body as Buffer);
      // The answer's body is a copy of our own (see forward-thread.ts).
      return (worker ??= start()).call(wire, call.soon).then(decodeResult);
    },
    fault: () => worker?.fault() ?? null,
    close: () => worker?.close(),
  };
}
