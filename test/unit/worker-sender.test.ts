// The dispatcher's sender thread: it runs from the TypeScript source too (the `hooklab` command
// in a checkout), and a thread that keeps crashing backs off and shows in health instead of
// restarting in a hot loop.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkerSender, type WorkerSender } from '../../server/dispatch/worker-sender.ts';

const senders: WorkerSender[] = [];
afterEach(() => {
  for (const s of senders.splice(0)) s.close();
});

describe('worker sender', () => {
  it('sends from the TypeScript source (the worker registers tsx itself)', async () => {
    const srv = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(201).end('made')));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`;
      const s = createWorkerSender({ maxResponseBytes: 1024, policy: null }, () => 'http://127.0.0.1:1');
      senders.push(s);
      const res = await s.send({ url, headers: { 'content-type': 'text/plain' }, body: Buffer.from('hi'), timeoutMs: 5000 });
      expect(res).toMatchObject({ status: 201, body: 'made' });
      expect(s.fault()).toBeNull();
    } finally {
      srv.close();
    }
  });

  it('a thread that crashes at start restarts with growing delays and reports a fault', async () => {
    let spawned = 0;
    const crashes: string[] = [];
    const s = createWorkerSender({ maxResponseBytes: 1024, policy: null }, () => 'http://127.0.0.1:1', {
      restartMinMs: 50,
      restartMaxMs: 400,
      onCrash: (m) => crashes.push(m),
      spawn: () => {
        spawned++;
        return new Worker('throw new Error("broken build")', { eval: true });
      },
    });
    senders.push(s);
    await new Promise((r) => setTimeout(r, 1200));
    // 50+100+200+400+400… ms apart: a handful in 1.2 s, where a hot loop makes hundreds.
    expect(spawned).toBeGreaterThanOrEqual(3);
    expect(spawned).toBeLessThanOrEqual(8);
    expect(s.fault()).toMatchObject({ code: 'sender_stopped' });
    expect(s.fault()!.message).toContain('broken build');
    expect(crashes.length).toBeGreaterThanOrEqual(spawned - 1); // the last may still be starting
  });
});
