// What `hooklab forward` refuses at start, before it reads the bin or sends anything: a --to
// with a user name or password (the relay never sent them, and printed the password on every
// line), and a --timeout of 0 (every forward then failed after it had gone out, and was sent
// again and again). One line, exit 2, the target untouched. The CLI as a process.
import { describe, expect, it } from 'vitest';
import { newBin, relayKit } from '../helpers/relay-kit.ts';

const { file, relay, server, target } = relayKit();

describe('hooklab forward: refused at start', () => {
  it('a --to with a user name or password: exit 2, one line that does not repeat them; nothing is sent', async () => {
    const s = await server();
    const t = await target();
    const binId = await newBin(s.base);
    await fetch(`${s.base}/h/${binId}/held`, { method: 'POST', body: 'x' });
    const at = new URL(t.base);
    for (const to of [`http://user:s3cretpw@${at.host}/in`, `http://user@${at.host}/in`, `http://:s3cretpw@${at.host}/in`, `HTTP://user:s3cretpw@${at.host}`]) {
      const r = relay([`${s.base}/h/${binId}`, '--to', to, '--from-start', '--once', '--cursor', file('c-creds.json')]);
      expect(await r.exited, r.err()).toBe(2);
      expect(r.err()).toMatch(/^hooklab: --to \S+ must not contain a user name or password: the relay does not send them \(a target behind Basic auth would answer 401\); give the target a URL without them\n$/);
      expect(r.err()).not.toMatch(/s3cretpw|user[:@]/);
      expect(r.out()).toBe('');
    }
    // One of several --to is enough, whichever place it has.
    const second = relay([`${s.base}/h/${binId}`, '--to', `${t.base}/ok`, '--to', `http://me:s3cretpw@${at.host}/in`, '--from-start', '--once', '--cursor', file('c-creds.json')]);
    expect(await second.exited).toBe(2);
    expect(second.err()).not.toContain('s3cretpw');
    expect(t.got).toEqual([]);
  });

  it('--timeout 0 (or one that rounds to 0 ms, or past what a timer holds): exit 2, one line; nothing is sent', async () => {
    const s = await server();
    const t = await target();
    const binId = await newBin(s.base);
    await fetch(`${s.base}/h/${binId}/held`, { method: 'POST', body: 'x' });
    for (const [bad, says] of [
      ['0ms', 'more than 0'],
      ['0s', 'more than 0'],
      ['0.4ms', 'more than 0'],
      ['600h', 'at most 24 days (35791m)'],
    ]) {
      const r = relay([`${s.base}/h/${binId}`, '--to', `${t.base}/in`, '--from-start', '--once', '--timeout', bad, '--cursor', file('c-timeout.json')]);
      expect(await r.exited, r.err()).toBe(2);
      expect(r.err()).toBe(`hooklab: --timeout must be ${says}, got "${bad}"\n`);
    }
    expect(t.got).toEqual([]);
    // One that is not 0 is taken.
    const ok = relay([`${s.base}/h/${binId}`, '--to', `${t.base}/in`, '--from-start', '--once', '--timeout', '5s', '--cursor', file('c-timeout.json')]);
    expect(await ok.exited, ok.err()).toBe(0);
    expect(t.paths()).toEqual(['/in/held']);
  });
});
