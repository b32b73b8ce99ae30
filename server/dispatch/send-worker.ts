// The dispatcher's HTTP client, in a worker thread: attempts (making the request, parsing the
// answer) run on another core, so a fast-forward of thousands of attempts does not take the
// event loop from the receiver and the API. Requests and results travel in batches
// (lib/batched-worker.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { createOutboundPolicy } from '../net/outbound-policy.ts';
import { createSender, type SendRequest, type SendResult } from './send.ts';
import { type AnswerBatch, type CallBatch, Batcher } from '../lib/batched-worker.ts';
import type { WorkerInit, WorkerMessage } from './worker-sender.ts';

const init = workerData as WorkerInit;
let publicUrl = init.publicUrl;
const sender = createSender({
  maxResponseBytes: init.maxResponseBytes,
  policy: init.policy ? createOutboundPolicy({ ...init.policy, publicUrl: () => publicUrl }) : null,
});

let inHand = 0;
// Results go back at the end of the turn, together (no waiting: each may hold up the next attempt).
const replies = new Batcher<AnswerBatch<SendResult>[number]>((batch) => parentPort!.postMessage(batch), () => inHand === 0, 0);

parentPort!.on('message', (m: WorkerMessage | CallBatch<SendRequest>) => {
  if (m.type === 'publicUrl') publicUrl = m.value;
  else {
    for (const { id, req } of m.batch) {
      inHand++;
      void sender.send({ ...req, body: Buffer.from(req.body) } as SendRequest).then((res) => {
        inHand--;
        replies.add({ id, res });
      });
    }
  }
});
