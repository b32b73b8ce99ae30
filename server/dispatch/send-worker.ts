// The dispatcher's HTTP client, in a worker thread: attempts (making the request, parsing the
// answer) run on another core, so a fast-forward of thousands of attempts does not take the
// event loop from the receiver and the API. Requests and results travel in batches, one
// message per event-loop turn each way.
import { parentPort, workerData } from 'node:worker_threads';
import { createOutboundPolicy } from '../net/outbound-policy.ts';
import { createSender, type SendRequest, type SendResult } from './send.ts';
import type { WorkerInit, WorkerMessage } from './worker-sender.ts';

const init = workerData as WorkerInit;
let publicUrl = init.publicUrl;
const sender = createSender({
  maxResponseBytes: init.maxResponseBytes,
  policy: init.policy ? createOutboundPolicy({ ...init.policy, publicUrl: () => publicUrl }) : null,
});

let outbox: { id: number; res: SendResult }[] = [];
const flush = () => {
  const batch = outbox;
  outbox = [];
  parentPort!.postMessage(batch);
};

parentPort!.on('message', (m: WorkerMessage) => {
  if (m.type === 'publicUrl') publicUrl = m.value;
  else if (m.type === 'close') {
    sender.close();
    parentPort!.close();
  } else {
    for (const { id, req } of m.batch) {
      void sender.send({ ...req, body: Buffer.from(req.body) } as SendRequest).then((res) => {
        if (outbox.push({ id, res }) === 1) setImmediate(flush);
      });
    }
  }
});
