// A beat whose answer comes back late (the holder's process stalled while Redis had answered)
// says the lease was ours when the beat was sent, not now: another instance may have taken it
// over since (a whole lease after that beat). Sends waiting on the lease stay waiting until a
// beat comes back in time. The lease's timing is a policy of an injected clock, so it is
// driven here by one, with a stand-in for the Redis commands; the real-Redis cases are in
// test/cluster/fence.test.ts.
import { describe, expect, it } from 'vitest';
import { DispatcherLease, type LeaseConnection } from '../../server/cluster/dispatcher-lease.ts';

describe('DispatcherLease: a late beat', () => {
  it('answered after 2/3 of a lease since it was sent: sends stay waiting; a beat answered in time lets them go', async () => {
    let t = 0;
    const answers: ((v: number) => void)[] = [];
    const client = {
      defineCommand() {},
      mget: async () => [null, null],
      hooklabLeaseAcquire: async () => '7.tok',
      hooklabLeaseRenew: () => new Promise<number>((r) => answers.push(r)),
    };
    const db = { client, run: <T>(fn: (c: never) => Promise<T>) => fn(client as never), lastFaultAt: () => 0 } as unknown as LeaseConnection;
    const events: string[] = [];
    const ttl = 3000;
    const lease = new DispatcherLease({
      db,
      prefix: 'p:',
      selfUrl: 'http://a',
      ttlMs: ttl,
      now: () => t,
      onAcquire: async () => void events.push('got'),
      onLose: async () => void events.push('lost'),
      onSuspend: () => void events.push(`suspended at ${t}`),
      onResume: () => void events.push(`resumed at ${t}`),
    });
    const tick = () => (lease as unknown as { tick(): Promise<void> }).tick();
    await tick(); // takes it at t=0
    expect(lease.held).toBe('7.tok');

    t = 1000;
    const late = tick(); // a beat sent at t=1000
    await new Promise((r) => setImmediate(r));
    t = 3200; // past 2/3 of a lease since the last beat that went through
    let sent = false;
    const sure = lease.whenSure().then(() => void (sent = true));
    t = 4500; // its answer read only now: another instance may hold the lease since t=4000
    answers.shift()!(1);
    await late;
    await new Promise((r) => setImmediate(r));
    expect(sent).toBe(false);
    expect(events).toEqual(['got', 'suspended at 3200']);

    const inTime = tick(); // sent at t=4500, answered at once
    await new Promise((r) => setImmediate(r));
    answers.shift()!(1);
    await inTime;
    await sure;
    expect(sent).toBe(true);
    expect(events).toEqual(['got', 'suspended at 3200', 'resumed at 4500']);
    await lease.stop().catch(() => {});
  });
});
