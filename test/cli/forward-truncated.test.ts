// The relay does not send a capture whose body the server cut at its MAX_BODY_BYTES: its first
// bytes are not the request that came, and the app (or its signature check) would get other
// bytes. It says so, with the sizes, counts it, and goes on with the next (before, it sent the
// first bytes and printed "→ 200"). Real server and relay processes over loopback.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { capture, newBin, relayKit } from '../helpers/relay-kit.ts';

const { file, relay, server, target } = relayKit();

describe('hooklab forward: a capture whose body the server cut', () => {
  it('is said and counted, not sent; the whole ones around it are forwarded in order', async () => {
    const s = await server({ MAX_BODY_BYTES: '100' });
    const t = await target();
    const binId = await newBin(s.base);
    const ids = await capture(`${s.base}/h/${binId}`, 3, 'cut', (i) => (i === 1 ? Buffer.alloc(500, 'x') : `whole ${i}`));
    const cursor = file('c-cut.json');
    const r = relay([`${s.base}/h/${binId}`, '--to', `${t.base}/in`, '--from-start', '--once', '--cursor', cursor]);
    expect(await r.exited, r.err()).toBe(0);
    expect(t.got.map((g) => [g.path, g.body.toString()])).toEqual([
      ['/in/cut/0', 'whole 0'],
      ['/in/cut/2', 'whole 2'],
    ]);
    // Its line says no target got it (as a blocked one's).
    const lines = r.out().trim().split('\n');
    expect(lines).toHaveLength(3);
    // Named by the URL it would have gone to, as the sent ones are (before: the bare target).
    expect(lines[0]).toMatch(new RegExp(`POST /cut/0  → 200 \\(\\d+ ms\\) ${t.base}/in/cut/0$`));
    expect(lines[1]).toMatch(new RegExp(`POST /cut/1  → truncated \\(0 ms\\) ${t.base}/in/cut/1$`));
    expect(r.err()).toMatch(new RegExp(`not forwarded: POST /cut/1 received \\S+ \\(id ${ids[1]}\\): the server cut its body at its MAX_BODY_BYTES \\(100 of 500 bytes kept\\)`));
    expect(r.err()).toContain('; 1 not forwarded so far');
    expect(JSON.parse(await readFile(cursor, 'utf8')).lastId).toBe(ids[2]);
  }, 120_000);
});
