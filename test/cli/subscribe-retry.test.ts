// A subscribe the server cannot serve for now (its store unreachable: a Redis outage, found by a
// probe) is asked again, backing off, by the UI's live list and by `hooklab tail`: before, the UI
// showed "internal error" and stayed without live updates until a reload, and tail exited. An
// unknown bin is not retried. A real Socket.IO server here refuses the first subscribes.
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server } from 'socket.io';
import { io } from 'socket.io-client';
import type { RequestItem, SubscribeAck } from '../../shared/api.ts';
import { type LiveSocket, subscribeBinOn } from '../../client/src/lib/socket.ts';
import { CLI, ROOT } from '../helpers/relay.ts';

const BIN = 'retry-bin-1234';
let httpServer: http.Server;
let base: string;
/** What each subscribe was answered, in order, and the unsubscribes between them. */
let log: string[] = [];
/** How many subscribes to refuse before serving them. */
let refuse = 0;

beforeAll(async () => {
  httpServer = http.createServer();
  const ioServer = new Server(httpServer);
  ioServer.on('connection', (s) => {
    s.on('subscribe', (arg: { binId: string; lastId: string | null }, ack: (r: SubscribeAck) => void) => {
      if (arg.binId !== BIN) return ack({ ok: false, error: 'bin not found' });
      if (refuse > 0) {
        refuse--;
        s.join(arg.binId); // a failure after joining: the client must leave before its retry
        log.push('refused');
        return ack({ ok: false, error: 'store unavailable' });
      }
      s.join(arg.binId);
      log.push(`served after ${arg.lastId}`);
      ack({ ok: true, backfilled: 0, lastId: '0000000001' });
      const r = { id: '0000000002', binId: BIN, method: 'POST', path: '/after', queryString: '', receivedAt: new Date().toISOString(), size: 2, status: 200, answer: {} } as unknown as RequestItem;
      ioServer.to(arg.binId).emit('request', r);
    });
    s.on('unsubscribe', (arg: { binId: string }) => {
      s.leave(arg.binId);
      log.push('left');
    });
  });
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(httpServer.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => httpServer.close(() => r())));

async function until(check: () => boolean, what: string, ms = 30_000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) if (check()) return;
  throw new Error(`timed out waiting for ${what}`);
}

describe('a subscribe the server could not serve is asked again', () => {
  it("the UI's live list: refused twice, it leaves the room, asks again (1 s, then 2 s) and goes live; the ack after a retry counts as a reconnect", async () => {
    log = [];
    refuse = 2;
    const s = io(base, { transports: ['websocket'] }) as unknown as LiveSocket;
    const acks: { ok: boolean; error?: string; reconnect: boolean }[] = [];
    const got: string[] = [];
    s.on('request', (r: RequestItem) => got.push(r.id));
    const stop = subscribeBinOn(s, BIN, () => null, (ack, reconnect) => acks.push({ ok: ack.ok, ...(ack.error ? { error: ack.error } : {}), reconnect }));
    try {
      await until(() => got.length === 1, 'live events after the retries');
      expect(acks).toEqual([
        { ok: false, error: 'store unavailable', reconnect: false },
        { ok: false, error: 'store unavailable', reconnect: true },
        { ok: true, reconnect: true },
      ]);
      expect(log).toEqual(['refused', 'left', 'refused', 'left', 'served after null']);
    } finally {
      stop();
      s.close();
    }
    // An unknown bin is said, not asked again.
    log = [];
    const s2 = io(base, { transports: ['websocket'] }) as unknown as LiveSocket;
    const acks2: SubscribeAck[] = [];
    const stop2 = subscribeBinOn(s2, 'no-such-bin-99', () => null, (ack) => acks2.push(ack));
    try {
      await until(() => acks2.length === 1, 'the answer');
      await new Promise((r) => setTimeout(r, 1500));
      expect(acks2).toEqual([{ ok: false, error: 'bin not found' }]);
    } finally {
      stop2();
      s2.close();
    }
  });

  it('hooklab tail: says it cannot follow yet once, retries, then prints what comes; an unknown bin is exit 2', async () => {
    log = [];
    refuse = 2;
    const children: ChildProcess[] = [];
    const run = (bin: string) => {
      const p = spawn(process.execPath, [CLI, 'tail', bin, '--server', base], { cwd: ROOT, env: { ...process.env, HOOKLAB_SERVER: '', HOOKLAB_TOKEN: '' } });
      children.push(p);
      let out = '';
      let err = '';
      p.stdout!.on('data', (d) => (out += d));
      p.stderr!.on('data', (d) => (err += d));
      const exited = new Promise<number | null>((r) => p.on('close', r));
      return { p, out: () => out, err: () => err, exited };
    };
    try {
      const t = run(BIN);
      await until(() => /POST +\/after/.test(t.out()), 'tail to print the live request', 60_000);
      expect(t.err()).toBe(`cannot follow bin ${BIN} yet (store unavailable); retrying\nfollowing ${base}/h/${BIN} (Ctrl-C to stop)\n`);
      expect(log).toEqual(['refused', 'left', 'refused', 'left', 'served after null']);
      t.p.kill('SIGINT');
      const unknown = run('no-such-bin-99');
      expect(await unknown.exited).toBe(2);
      expect(unknown.err()).toBe('hooklab: cannot follow bin no-such-bin-99: bin not found\n');
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  });
});
