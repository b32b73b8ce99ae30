// BIN_IDLE_DAYS: bins nobody has sent to (nor cleared) for that long are deleted, as DELETE
// /api/bins/:id would (viewers told), and the rest stay. A fake wall clock stands in for days.
import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../helpers/http.ts';
import { createBin, json, startServer, type TestServer } from '../helpers/server.ts';
import { collect, connect, subscribe } from '../helpers/socket.ts';

const DAY = 86_400_000;
let srv: TestServer | null = null;
afterEach(async () => {
  await srv?.cleanup();
  srv = null;
});

const exists = async (base: string, id: string) => (await json(base, 'GET', `/api/bins/${id}`)).status === 200;

describe('idle bins (BIN_IDLE_DAYS)', () => {
  it('deletes the bins idle for longer than the setting, tells their viewers, and keeps those sent to or cleared since', async () => {
    const clock = { ms: Date.parse('2026-01-01T00:00:00.000Z') };
    srv = await startServer({ now: () => clock.ms, config: { binIdleMs: 7 * DAY } });
    const { base } = srv;
    const idle = await createBin(base, 'idle');
    const sent = await createBin(base, 'sent to');
    const cleared = await createBin(base, 'cleared');
    const socket = await connect(base);
    const deleted = collect(socket, 'bin:deleted');
    await subscribe(socket, idle.id);

    const created = clock.ms;
    const view = async (id: string) => (await json<{ idleExpiresAt?: string }>(base, 'GET', `/api/bins/${id}`)).body;
    expect((await view(sent.id)).idleExpiresAt).toBe(new Date(created + 7 * DAY).toISOString());

    clock.ms += 3 * DAY;
    expect((await send(`${base}/h/${sent.id}/hook`, { body: 'still in use' })).status).toBe(200);
    // The deadline moves with the activity: the list says when each bin goes.
    expect((await view(sent.id)).idleExpiresAt).toBe(new Date(clock.ms + 7 * DAY).toISOString());
    expect((await view(idle.id)).idleExpiresAt).toBe(new Date(created + 7 * DAY).toISOString());
    expect((await send(`${base}/h/${cleared.id}`, { body: 'soon cleared' })).status).toBe(200);
    expect((await json(base, 'DELETE', `/api/bins/${cleared.id}/requests`)).status).toBe(204);
    expect((await view(cleared.id)).idleExpiresAt).toBe(new Date(clock.ms + 7 * DAY).toISOString());

    clock.ms += 5 * DAY; // 8 days after creation, 5 after the capture and the clearing
    expect(await srv.app.sweepIdleBins()).toEqual([idle.id]);
    expect(await exists(base, idle.id)).toBe(false);
    expect(await exists(base, sent.id)).toBe(true);
    expect(await exists(base, cleared.id)).toBe(true);
    expect((await deleted.until(1)).map((e) => e.id)).toEqual([idle.id]);
    // A sender to the deleted bin's URL gets what any unknown bin gets.
    expect((await send(`${base}/h/${idle.id}`, { body: 'late' })).status).toBe(404);

    clock.ms += 3 * DAY; // 8 days after the capture and the clearing
    expect((await srv.app.sweepIdleBins()).sort()).toEqual([sent.id, cleared.id].sort());
    const list = await json<{ bins: { id: string }[] }>(base, 'GET', '/api/bins');
    expect(list.body.bins).toEqual([]);
    socket.close();
  });

  it('is off by default: nothing is deleted, and MAX_BINS says how to turn it on', async () => {
    const clock = { ms: Date.parse('2026-01-01T00:00:00.000Z') };
    srv = await startServer({ now: () => clock.ms, config: { maxBins: 1 } });
    const bin = await createBin(srv.base);
    expect((await json<object>(srv.base, 'GET', `/api/bins/${bin.id}`)).body).not.toHaveProperty('idleExpiresAt');
    clock.ms += 3650 * DAY;
    expect(await srv.app.sweepIdleBins()).toEqual([]);
    expect(await exists(srv.base, bin.id)).toBe(true);
    const refused = await json<{ error: { code: string; message: string } }>(srv.base, 'POST', '/api/bins', {});
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'too_many_bins' });
    expect(refused.body.error.message).toContain('BIN_IDLE_DAYS');
  });
});
