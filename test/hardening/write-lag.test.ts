// A write that runs late (a flood on a busy CPU, a slow disk) must not widen what a hard kill
// loses: once the oldest acknowledged capture not yet on disk is older than twice
// FLUSH_INTERVAL_MS, new captures are answered only once written. A durability probe lost
// every capture of the last 1.4 s on kill -9 under a flood of small bodies (MAX_UNWRITTEN_BYTES
// counts bytes, and 8 MiB of 1 KiB bodies is 8,000 captures). Real lowdb files; the store's
// writes are held back by taking its write turn (as a deletion does).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrittenLimitMs } from '../../server/capture/receiver.ts';
import type { LowdbStore } from '../../server/store/lowdb.ts';
import { send } from '../helpers/http.ts';
import { createBin, startServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ config: { flushIntervalMs: 100 } });
});
afterAll(() => srv.cleanup());

async function until(check: () => boolean, ms = 10_000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 10))) if (check()) return;
  throw new Error('timed out');
}

describe('writes that fall behind', () => {
  it('past twice FLUSH_INTERVAL_MS unwritten, a capture is answered only once it is written', async () => {
    const bin = await createBin(srv.base);
    const store = srv.store as LowdbStore;
    // Hold the next write back for a while (its turn taken, as a deletion takes it).
    let released = false;
    const hold = (store as unknown as { exclusive(fn: () => Promise<void>): Promise<void> })
      .exclusive(() => new Promise((r) => setTimeout(r, 1500)))
      .then(() => {
        released = true;
      });
    const first = await send(bin.url, { body: 'first' });
    expect(first.status).toBe(200);
    expect(released).toBe(false); // answered at once: nothing was late yet
    await until(() => store.unwrittenForMs() > unwrittenLimitMs(100));
    const late = await send(bin.url, { body: 'late' }).then((r) => ({ status: r.status, releasedFirst: released, unwritten: store.unwrittenForMs() }));
    expect(late).toEqual({ status: 200, releasedFirst: true, unwritten: expect.any(Number) });
    // Written when answered: nothing older than the limit waits any more.
    expect(late.unwritten).toBeLessThanOrEqual(unwrittenLimitMs(100));
    await hold;
    // Caught up, answers are at once again.
    await until(() => store.unwrittenForMs() === 0);
    expect((await send(bin.url, { body: 'again' })).status).toBe(200);
  });
});
