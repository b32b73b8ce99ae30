// A dispatcher call passed to the instance holding the lease (a Test here), with real processes
// on a real redis-server: one the holder took longer than a minute over is answered; one whose
// holder died or stalled after it was sent answers 502 dispatcher_outcome_unknown (it may have
// been made: check before retrying), not 503 "retry" (following that advice sent a second Test).
import { describe, expect, it } from 'vitest';
import { leasePairs } from '../helpers/cluster.ts';
import { api } from '../helpers/http.ts';
import type { ServerProcess } from '../helpers/process.ts';

const LEASE_MS = 1500;
/** Two instances; answers [the one running the dispatcher, the other]. */
const pair = leasePairs('po:', LEASE_MS);

/** A webhook to a bin on `on` that answers 200 after `delayMs`. */
async function slowWebhook(on: ServerProcess, delayMs: number, timeoutMs: number): Promise<string> {
  const bin = (await api<{ id: string }>(on.base, 'POST', '/api/bins', {})).body;
  await api(on.base, 'PUT', `/api/bins/${bin.id}/response`, { default: { status: 200, delayMs } });
  return (await api<{ id: string }>(on.base, 'POST', '/api/webhooks', { url: `${on.base}/h/${bin.id}`, events: ['flow_started'], timeoutMs })).body.id;
}

type ErrorBody = { error: { code: string; message: string } };
type Deliveries = { deliveries: { id: string; attempts: unknown[] }[] };

describe('a Test passed to the instance running the dispatcher', () => {
  it('its holder SIGKILLed after the Test was sent: 502 outcome unknown, saying where to look; the Test is there', async () => {
    const [holder, other] = await pair();
    const wh = await slowWebhook(other, 5000, 10_000);
    const test = api<ErrorBody>(other.base, 'POST', `/api/webhooks/${wh}/test`);
    // The holder is sending it (the receiver, on the other instance, holds its answer).
    await expect.poll(async () => (await api<Deliveries>(other.base, 'GET', `/api/deliveries?webhookId=${wh}`)).body.deliveries.length, { timeout: 10_000 }).toBe(1);
    holder.proc.kill('SIGKILL');
    const r = await test;
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe('dispatcher_outcome_unknown');
    expect(r.body.error.message).toContain(`GET /api/deliveries?webhookId=${wh}`);
    // As the message says: the Test was made (and is there to see).
    expect((await api<Deliveries>(other.base, 'GET', `/api/deliveries?webhookId=${wh}`)).body.deliveries).toHaveLength(1);
  }, 60_000);

  it('its holder SIGSTOPped past its lease: 502 outcome unknown once another instance runs the dispatcher, not a wait without end', async () => {
    const [holder, other] = await pair();
    const wh = await slowWebhook(other, 3000, 10_000);
    const test = api<ErrorBody>(other.base, 'POST', `/api/webhooks/${wh}/test`);
    await expect.poll(async () => (await api<Deliveries>(other.base, 'GET', `/api/deliveries?webhookId=${wh}`)).body.deliveries.length, { timeout: 10_000 }).toBe(1);
    process.kill(holder.proc.pid!, 'SIGSTOP');
    const r = await test;
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe('dispatcher_outcome_unknown');
    expect(r.body.error.message).toMatch(/no longer runs the dispatcher/);
    expect((await api<{ dispatcher?: { runsHere: boolean } }>(other.base, 'GET', '/api/health')).body.dispatcher?.runsHere).toBe(true);
    // Woken, it says its lease was not renewed in time, and blames no Redis (Redis was fine).
    process.kill(holder.proc.pid!, 'SIGCONT');
    await expect.poll(() => holder.output()).toMatch(/its lease could not be renewed in time/);
    expect(holder.output()).not.toMatch(/Redis does not answer/);
  }, 60_000);

  it('the holder takes longer than a minute (a 62 s receiver, a 90 s webhook timeout): the caller gets its result, not a 503 "retry"', async () => {
    const [, other] = await pair();
    const wh = await slowWebhook(other, 62_000, 90_000);
    const r = await api<{ ok: boolean; status: number | null }>(other.base, 'POST', `/api/webhooks/${wh}/test`);
    expect({ status: r.status, ok: r.body.ok, answered: r.body.status }).toEqual({ status: 200, ok: true, answered: 200 });
  }, 180_000);

  it('nothing reached the holder (it is gone and its lease still names it): 503 dispatcher_unavailable, retry', async () => {
    const [holder, other] = await pair();
    const wh = await slowWebhook(other, 0, 10_000);
    holder.proc.kill('SIGKILL');
    await holder.exited;
    const r = await api<ErrorBody>(other.base, 'POST', `/api/webhooks/${wh}/test`);
    expect({ status: r.status, code: r.body.error.code }).toEqual({ status: 503, code: 'dispatcher_unavailable' });
    expect((await api<Deliveries>(other.base, 'GET', `/api/deliveries?webhookId=${wh}`)).body.deliveries).toHaveLength(0);
  }, 60_000);
});
