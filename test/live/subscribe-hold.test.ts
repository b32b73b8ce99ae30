// Shared rooms (several instances on Redis): a viewer's live captures are held while it
// backfills (SocketBus.hold), then released. A backfill that failed after its hold (the store
// stalling mid-way: StoreUnavailableError) must release it too: before, the hold stayed, so the
// feed kept copying every capture of the bin for that socket, for good (after it disconnected
// too), and kept it out of the room's live events. A real Socket.IO server and client; the
// store answers the bin and then fails the backfill's read, as a stalled Redis does.
import http from 'node:http';
import { Server } from 'socket.io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestItem } from '../../shared/api.ts';
import { SocketBus } from '../../server/live/bus.ts';
import { attachLiveHandlers } from '../../server/live/socket.ts';
import { type Store, StoreUnavailableError } from '../../server/store/types.ts';
import { type ClientSocket, connect, subscribe } from '../helpers/socket.ts';

const BIN = 'held-bin-1234';
let httpServer: http.Server;
let bus: SocketBus;
let base: string;
let stalled = true;

beforeAll(async () => {
  httpServer = http.createServer();
  const io = new Server(httpServer);
  bus = new SocketBus(io as never, { shared: true });
  // Only what a subscribe with a cursor reads: the bin, the cursor's capture, the pages.
  const store = {
    bins: { get: async (id: string) => (id === BIN ? { id: BIN } : undefined) },
    requests: {
      get: async () => undefined,
      items: async () => {
        if (stalled) throw new StoreUnavailableError('Redis is not answering');
        return [];
      },
      lastSeq: async () => 0,
    },
  } as unknown as Store;
  attachLiveHandlers(io as never, { store, gate: bus });
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(httpServer.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => httpServer.close(() => r())));

/** The viewers held for the bin (SocketBus's own record; private, read for the test). */
const heldFor = (binId: string) => bus['held'].get(binId)?.size ?? 0;
const row = (id: string) => JSON.stringify({ id, binId: BIN, method: 'POST', path: '/', queryString: '', receivedAt: new Date().toISOString() });

describe('a subscribe whose backfill fails after its hold', () => {
  it('is answered "store unavailable" and releases the hold: captures from the feed are not kept for it', async () => {
    const s: ClientSocket = await connect(base);
    const live: RequestItem[] = [];
    s.on('request', (r) => live.push(r));
    try {
      stalled = true;
      const ack = await subscribe(s, BIN, '0000000001');
      expect(ack).toMatchObject({ ok: false, error: 'store unavailable', retryAfterMs: expect.any(Number) });
      expect(heldFor(BIN)).toBe(0);
      // Still in the room it joined before the backfill (the client leaves, or asks again):
      // not shut out of it, as a held viewer is.
      bus.feedCaptured(BIN, row('0000000002'), []);
      await new Promise((r) => setTimeout(r, 100));
      expect(live.map((r) => r.id)).toEqual(['0000000002']);

      // Asked again once the store answers: served, nothing held either.
      stalled = false;
      expect(await subscribe(s, BIN, '0000000002')).toMatchObject({ ok: true });
      expect(heldFor(BIN)).toBe(0);
    } finally {
      s.close();
    }
  });
});
