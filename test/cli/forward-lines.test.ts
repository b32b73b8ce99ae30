// What the relay's lines say where a probe found them wrong: the method as it is sent (an
// imported "GeT" goes out as GET), a capture's chunked trailers that are not sent, and a 429 at
// start (this address locked out after wrong tokens), which is a refusal, not an unreachable
// server. Real server over loopback, the CLI as a process.
import { describe, expect, it } from 'vitest';
import { exportLine } from '../helpers/export-line.ts';
import { recordingTarget } from '../helpers/target.ts';
import { newBin, relayKit, until } from '../helpers/relay-kit.ts';

const { closers, file, relay, server } = relayKit();
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('hooklab forward: what its lines say', () => {
  it('the method as sent (upper case) and the trailers not sent, on the line and in --json', async () => {
    const s = await server();
    const t = await recordingTarget();
    closers.push(() => t.close());
    const binId = await newBin(s.base);
    const imported = [
      exportLine({ method: 'GeT', path: '/signed', trailers: [['X-Signature', 'abc']], body: '', size: 0 }),
      exportLine({ method: 'POST', path: '/plain' }),
    ].join('\n');
    const res = await fetch(`${s.base}/api/bins/${binId}/import`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: imported });
    expect(res.status, await res.clone().text()).toBe(200);

    const r = relay([`${s.base}/h/${binId}`, '--to', `${t.base}/in`, '--from-start', '--once', '--cursor', file('c-lines.json')]);
    expect(await r.exited, r.err()).toBe(0);
    expect(t.got.map((g) => `${g.method} ${g.url}`)).toEqual(['GET /in/signed', 'POST /in/plain']);
    const [signed, plain] = r.out().trimEnd().split('\n');
    expect(signed).toMatch(/^\S+ {2}GET \/signed {2}→ 200 \(\d+ ms\) \S+\/in\/signed {2}\(1 trailer not sent: the relay cannot send trailers\)$/);
    expect(plain).toMatch(/^\S+ {2}POST \/plain {2}→ 200 \(\d+ ms\) \S+\/in\/plain$/);

    const j = relay([`${s.base}/h/${binId}`, '--to', `${t.base}/in`, '--from-start', '--once', '--json', '--cursor', file('c-lines-json.json')]);
    expect(await j.exited, j.err()).toBe(0);
    const lines = j.out().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.method, l.trailersNotSent])).toEqual([
      ['GET', 1],
      ['POST', undefined],
    ]);
  });

  it('a 429 at start (too many wrong tokens from this address) is said as a refusal with its wait, not as a server unreachable', async () => {
    const s = await server({ AUTH_TOKEN: 'the-token-4444', AUTH_FAILURES_PER_MINUTE: '2' });
    const made = await fetch(`${s.base}/api/bins`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer the-token-4444' }, body: '{}' });
    const { id } = (await made.json()) as { id: string };
    // Someone on this address guesses wrong: every client on it gets 429 for a minute.
    for (let i = 0; i < 2; i++) expect((await fetch(`${s.base}/api/bins`, { headers: { authorization: `Bearer wrong-${i}` } })).status).toBe(401);
    const r = relay([`${s.base}/h/${id}`, '--to', 'http://127.0.0.1:9/in', '--token', 'the-token-4444', '--cursor', file('c-429.json')]);
    await until(() => r.err().includes('\n') || r.ended(), 'the relay to say why it waits');
    expect(r.err()).toMatch(new RegExp(`^hooklab at ${esc(s.base)} refused: too many failed sign-ins from this address \\(it says to wait \\d+ s\\); retrying until it answers\\n$`));
    r.stop();
    expect(await r.exited).toBe(0);
  });
});
