// A bin deleted and made again with its id while the relay could not hear it (stopped, the
// server restarted meanwhile: no bin:deleted reached it). On reconnecting the relay reads the
// bin again: it says so, follows the new bin from its first capture, and its cursor file names
// the new bin, so the next start does not take the new bin's captures for ones never forwarded
// and send them again. Real servers over loopback, the CLI as a process.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { capture, inOrder, newBin, relayKit, until } from '../helpers/relay-kit.ts';

const { file, relay, server, target } = relayKit();

describe('hooklab forward: the bin deleted and made again while the relay was away', () => {
  it('said on reconnecting, the new bin forwarded once, the cursor file names it: a restart sends nothing again', async () => {
    const data = file('data-remade');
    let s = await server({ DATA_DIR: data });
    const port = new URL(s.base).port;
    const t = await target();
    const binId = await newBin(s.base);
    const binUrl = `${s.base}/h/${binId}`;
    const cursor = file('c-remade.json');
    const r = relay([binUrl, '--to', `${t.base}/in`, '--cursor', cursor]);
    await until(() => r.err().includes('forwarding'), 'the relay to start');
    const old = await capture(binUrl, 2, 'old');
    await until(() => t.got.length >= 2, 'the first two forwarded');

    // Stopped (a laptop asleep), so it cannot hear the deletion; the server restarts.
    r.signal('SIGSTOP');
    s.proc.kill('SIGTERM');
    await s.exited;
    s = await server({ DATA_DIR: data, PORT: port });
    expect((await fetch(`${s.base}/api/bins/${binId}`, { method: 'DELETE' })).status).toBe(204);
    const again = await fetch(`${s.base}/api/bins`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: binId }) });
    expect(again.status).toBe(201);
    const { createdAt } = (await again.json()) as { createdAt: string };
    await capture(binUrl, 2, 'new');
    r.signal('SIGCONT');

    await until(() => t.got.length >= 4, 'the new bin forwarded');
    expect(r.err()).toContain(
      `bin ${binId} was deleted and made again while the relay was away (made `,
    );
    expect(r.err()).toContain(`, now ${createdAt}): the old bin's captures after the last one forwarded (${old[1]}) went with it, how many is unknown; going on with the new bin from its first capture\n`);
    expect(r.err()).not.toContain('arrival numbers went back');
    expect(JSON.parse(await readFile(cursor, 'utf8'))).toMatchObject({ binId, binCreatedAt: createdAt });
    r.stop();
    expect(await r.exited).toBe(0);

    const next = relay([binUrl, '--to', `${t.base}/in`, '--once', '--cursor', cursor]);
    expect(await next.exited, next.err()).toBe(0);
    expect(next.err()).not.toContain('made again');
    expect(t.paths()).toEqual([...inOrder('old', 2), ...inOrder('new', 2)]); // each once
  }, 120_000); // a server's stop waits a while for the stopped relay's connection to close
});
