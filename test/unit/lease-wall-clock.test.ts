// The dispatcher's lease times itself on a clock that only goes forward: the wall clock of an
// instance stepped (NTP, a VM resumed, a hand-set date) must neither let a watcher take a lease
// whose holder beats, nor let a holder whose beats stopped go on sending. Driven with a
// stand-in for the Redis commands and the real clocks, Date.now stepped by an hour; the
// real-Redis cases are in test/cluster/fence.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DispatcherLease, type LeaseConnection } from '../../server/cluster/dispatcher-lease.ts';

const HOUR = 3_600_000;
const TTL = 300;

function leaseWith(client: Record<string, unknown>, now?: () => number) {
  const db = { client, run: <T>(fn: (c: never) => Promise<T>) => fn(client as never), lastFaultAt: () => 0 } as unknown as LeaseConnection;
  const lease = new DispatcherLease({ db, prefix: 'p:', selfUrl: 'http://a', ttlMs: TTL, onAcquire: async () => {}, onLose: async () => {}, ...(now ? { now } : {}) });
  const tick = () => (lease as unknown as { tick(): Promise<void> }).tick();
  return { lease, tick };
}

/** How far the wall clock is stepped; Date.now is replaced before each lease is made. */
let step = 0;
const stepWallClock = (byMs: number) => void (step = byMs);

beforeEach(() => {
  step = 0;
  const real = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => real() + step);
});
afterEach(() => void vi.restoreAllMocks());

describe('DispatcherLease and a stepped wall clock', () => {
  it('a watcher whose clock jumps an hour ahead does not take a lease it saw unchanged for a moment', async () => {
    const acquired: string[] = [];
    const { lease, tick } = leaseWith({
      defineCommand() {},
      // Another instance holds it; its beat did not move between the two reads.
      mget: async () => ['9.tok http://b', '41'],
      hooklabLeaseAcquire: async () => {
        acquired.push('taken');
        return '10.tok';
      },
    });
    await tick(); // starts watching
    stepWallClock(HOUR);
    await tick(); // a few ms later by any clock that only goes forward
    expect(acquired).toEqual([]);
    expect(lease.held).toBe(null);
  });

  it('a holder whose clock is set an hour back and whose beats hang stops sending after 2/3 of a lease', async () => {
    const { lease, tick } = leaseWith({
      defineCommand() {},
      mget: async () => [null, null],
      hooklabLeaseAcquire: async () => '1.tok',
      hooklabLeaseRenew: () => new Promise<number>(() => {}), // Redis never answers the beat
    });
    await tick(); // takes it
    expect(lease.held).toBe('1.tok');
    stepWallClock(-HOUR);
    void tick(); // a beat that hangs
    await new Promise((r) => setTimeout(r, TTL)); // past 2/3 of a lease
    let sent = false;
    void lease.whenSure().then(() => void (sent = true));
    await new Promise((r) => setImmediate(r));
    expect(sent).toBe(false);
  });

  it('a holder whose machine slept (its monotonic clock stood still, the wall clock went on) stops sending until a beat goes through', async () => {
    let beats = 0;
    const { lease, tick } = leaseWith(
      {
        defineCommand() {},
        mget: async () => [null, null],
        hooklabLeaseAcquire: async () => '1.tok',
        hooklabLeaseRenew: async () => (++beats, 1),
      },
      () => 1000, // performance.now() leaves out the time asleep
    );
    await tick();
    expect(lease.held).toBe('1.tok');
    stepWallClock(HOUR); // woke an hour later: another instance may hold the lease by now
    let sent = false;
    void lease.whenSure().then(() => void (sent = true));
    await new Promise((r) => setImmediate(r));
    expect(sent).toBe(false);
    await tick(); // a beat that goes through lets it go on
    await new Promise((r) => setImmediate(r));
    expect([beats, sent]).toEqual([1, true]);
  });
});
