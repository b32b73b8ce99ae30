// Forwards and replays, in a worker thread: making the request and reading the answer (undici,
// the most of a forward's cost) run on another core, so a bin forwarding a flood does not take
// the event loop from the receiver. The main thread keeps everything else (which target, the
// policy's URL check, recording). Calls and answers travel in batches (lib/batched-worker.ts).
//
// The local end of each forward's connection is told to the main thread (SelfConnections, for
// loop detection) before its request is written: the note is queued on a MessagePort that the
// receiver drains synchronously when a request comes from an address of ours, so it cannot
// arrive after the request it is about.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { Socket } from 'node:net';
import { checkedLookup } from '../net/checked-lookup.ts';
import { createOutboundPolicy, type OutboundPolicyOptions } from '../net/outbound-policy.ts';
import type { AnswerBatch, CallBatch } from '../lib/batched-worker.ts';
import { type Capture, type Destination, type ForwardResult, forwardConnections, forwardTo } from './request.ts';
import { type SocketNote, noteSocket } from './self-connections.ts';

export interface ForwardThreadInit {
  /** null: no policy (anything goes). */
  policy: Omit<OutboundPolicyOptions, 'publicUrl'> | null;
  publicUrl: string;
  timeoutMs: number;
  maxResponseBytes: number;
  connectionsPerOrigin: number;
  /** Where socket notes go (see SelfConnections.follow). */
  notes: MessagePort;
  /** Forwards in flight with a noted socket, shared: the receiver's quick "none" check. */
  inFlight: SharedArrayBuffer;
}

/** One exchange to make (see Forwarder.exchange). */
export interface ForwardCall {
  d: Omit<Destination, 'url'>;
  /** Body as bytes (a Buffer arrives as a Uint8Array). */
  c: Omit<Capture, 'body'> & { body: Uint8Array };
  connections: 'checked' | 'unchecked' | 'own';
  /** Note the socket for loop detection (not for replays to hooklab's own URLs). */
  track: boolean;
}

const init = workerData as ForwardThreadInit;
const connectTimeoutMs = init.timeoutMs;
const connections = init.connectionsPerOrigin;
const policy = init.policy ? createOutboundPolicy({ ...init.policy, publicUrl: () => init.publicUrl }) : null;
// A pooled connection skips the address check: checked calls never share one with unchecked ones.
const pools = {
  checked: forwardConnections({ lookup: policy ? checkedLookup(policy) : undefined, connectTimeoutMs, connections }),
  unchecked: forwardConnections({ connectTimeoutMs, connections }),
  own: forwardConnections({ connectTimeoutMs, connections }),
};
const inFlight = new Int32Array(init.inFlight);
const post = (n: SocketNote) => init.notes.postMessage(n);
let nextKey = 0;
const track = (socket: Socket, method: string, path: string) => noteSocket(socket, method, path, inFlight, nextKey++, post);

let outbox: AnswerBatch<ForwardResult> = [];
const flush = () => {
  const batch = outbox;
  outbox = [];
  parentPort!.postMessage(batch);
};

parentPort!.on('message', (m: CallBatch<ForwardCall>) => {
  for (const { id, req } of m.batch) {
    const c: Capture = { ...req.c, body: Buffer.from(req.c.body.buffer, req.c.body.byteOffset, req.c.body.byteLength) };
    void forwardTo(req.d as Destination, c, {
      timeoutMs: init.timeoutMs,
      maxResponseBytes: init.maxResponseBytes,
      dispatcher: pools[req.connections],
      onSocket: req.track ? track : undefined,
    }).then((res) => {
      if (outbox.push({ id, res }) === 1) setImmediate(flush);
    });
  }
});
