// `hooklab wait --after ID`: ID is a cursor ("newer than"), so one the bin no longer holds
// (evicted, deleted) still works. But an id no capture can ever be newer than (a typo, a made-up
// string in the id's shape) waited out its whole timeout in silence, exit 1: it fails at once,
// exit 2, saying why. A real server process and the CLI as a process.
import { describe, expect, it } from 'vitest';
import { runCli as hooklab } from '../helpers/cli.ts';
import { send } from '../helpers/http.ts';
import { createBin, json } from '../helpers/server.ts';
import { spawnedServers } from '../helpers/spawned.ts';

const { start } = spawnedServers();

describe('hooklab wait --after', () => {
  it('an id nothing can be newer than fails at once (exit 2); an evicted or deleted one is still a cursor', async () => {
    const p = await start({ MAX_REQUESTS_PER_BIN: '2' });
    const bin = await createBin(p.base);
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await send(`${p.base}/h/${bin.id}/r${n}`, { body: `r${n}` })).headers['x-hooklab-request-id'] as string);

    // In the id's shape, but its time part is thousands of years ahead: never anything newer.
    const future = await hooklab(p.base, ['wait', bin.id, '--after', 'zzzzzzzzzzzzzzzzzz', '--timeout', '20s']);
    expect(future.code).toBe(2);
    expect(future.stderr).toMatch(/^hooklab: --after: "zzzzzzzzzzzzzzzzzz" is no capture id this server gave: its time part is 5188-.*nothing would be newer/);
    expect(future.stderr.trim().split('\n')).toHaveLength(1);
    expect(future.ms).toBeLessThan(15_000); // not the 20 s timeout
    // Too short to be an id at all: refused as before.
    const short = await hooklab(p.base, ['wait', bin.id, '--after', 'zzzz', '--timeout', '60s']);
    expect({ code: short.code, stderr: short.stderr }).toEqual({ code: 2, stderr: 'hooklab: --after: must be a capture id, as the API gives them (its "id"; not its arrival number)\n' });

    // The first was evicted (2 per bin): as a cursor it still finds the next one.
    expect((await json(p.base, 'GET', `/api/bins/${bin.id}/requests/${ids[0]}`)).status).toBe(404);
    const evicted = await hooklab(p.base, ['wait', bin.id, '--after', ids[0], '--timeout', '10s']);
    expect({ code: evicted.code, id: JSON.parse(evicted.stdout || '{}').id }).toEqual({ code: 0, id: ids[1] });

    // The newest deleted: waiting after it waits for the next capture.
    expect((await json(p.base, 'DELETE', `/api/bins/${bin.id}/requests/${ids[2]}`)).status).toBe(204);
    const waiting = hooklab(p.base, ['wait', bin.id, '--after', ids[2], '--timeout', '20s']);
    await new Promise((r) => setTimeout(r, 500));
    const next = (await send(`${p.base}/h/${bin.id}/r4`, { body: 'r4' })).headers['x-hooklab-request-id'] as string;
    const w = await waiting;
    expect({ code: w.code, id: JSON.parse(w.stdout || '{}').id }).toEqual({ code: 0, id: next });
  });
});
