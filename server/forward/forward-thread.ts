// Forwards and replays, in a worker thread: making the request and reading the answer (undici,
// the most of a forward's cost) run on another core, so a bin forwarding a flood does not take
// the event loop from the receiver. The main thread keeps everything else (which target, the
// policy's URL check, recording). Calls and answers travel in batches (lib/batched-worker.ts),
// as arrays (wire.ts).
//
// The local port of each forward's connection is noted for loop detection before its request
// is written, in the table the receiver reads (SelfConnections, in memory both threads share).
import { parentPort, workerData } from 'node:worker_threads';
import type { Socket } from 'node:net';
import { checkedLookup } from '../net/checked-lookup.ts';
import { createOutboundPolicy, type OutboundPolicyOptions } from '../net/outbound-policy.ts';
import { type AnswerBatch, type CallBatch, Batcher } from '../lib/batched-worker.ts';
import { ownBytes } from '../lib/own-bytes.ts';
import { type Capture, type Destination, type PoolName, forwardPools, forwardTo } from './request.ts';
import { SelfConnections } from './self-connections.ts';
import { decodeCall, encodeResult, type WireCall, type WireResult } from './wire.ts';

export interface ForwardThreadInit {
  /** null: no policy (anything goes). */
  policy: Omit<OutboundPolicyOptions, 'publicUrl'> | null;
  publicUrl: string;
  timeoutMs: number;
  maxResponseBytes: number;
  connectionsPerOrigin: number;
  /** How long answers may wait to fill a batch while others are in hand (lib/batched-worker.ts). */
  batchDelayMs: number;
  batchMax: number;
  /** The memory of the receiver's SelfConnections table (null: nothing is tracked). */
  selfTable: SharedArrayBuffer | null;
}

/** One exchange to make (see Forwarder.exchange). */
export interface ForwardCall {
  d: Omit<Destination, 'url'>;
  /** Body as bytes (a Buffer arrives as a Uint8Array). */
  c: Omit<Capture, 'body'> & { body: Uint8Array };
  connections: PoolName;
  /** Note the socket for loop detection (not for replays to hooklab's own URLs). */
  track: boolean;
  /** Someone waits for the answer (proxy mode): it goes back without waiting for a batch. */
  soon: boolean;
}

const init = workerData as ForwardThreadInit;
const policy = init.policy ? createOutboundPolicy({ ...init.policy, publicUrl: () => init.publicUrl }) : null;
const pools = forwardPools({ lookup: policy ? checkedLookup(policy) : undefined, connectTimeoutMs: init.timeoutMs, connections: init.connectionsPerOrigin });
const self = init.selfTable ? new SelfConnections(init.selfTable) : null;
const track = self ? (socket: Socket, method: string, path: string) => self.track(socket, method, path) : undefined;

let inHand = 0;
// Answers go back in batches too; one at once when it was the last in hand (nothing to wait for).
const replies = new Batcher<AnswerBatch<WireResult>[number]>((batch) => parentPort!.postMessage(batch), () => inHand === 0, init.batchDelayMs, init.batchMax);

parentPort!.on('message', (m: CallBatch<WireCall>) => {
  for (const { id, req: wire } of m.batch) {
    inHand++;
    const req = decodeCall(wire);
    void forwardTo(req.d as Destination, req.c, {
      timeoutMs: init.timeoutMs,
      maxResponseBytes: init.maxResponseBytes,
      dispatcher: pools[req.connections],
      onSocket: req.track ? track : undefined,
    }).then((res) => {
      inHand--;
      res.body = ownBytes(res.body); // an answer's body is most often a view of the buffer pool
      replies.add({ id, res: encodeResult(res) }, req.soon);
    });
  }
});
