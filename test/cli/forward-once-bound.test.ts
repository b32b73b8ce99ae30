// `hooklab forward --once` while captures keep arriving: it forwards what the bin held when the
// relay caught up (up to the newest capture then, with any queued by that moment) and exits,
// rather than chasing a sender that never stops (a CI step hung for good). What came after is
// left for the next run, from the cursor file. Real server over loopback, a slow target (so the
// relay never empties its queue), the CLI as a process.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { recordingTarget } from '../helpers/target.ts';
import { capture, inOrder, newBin, relayKit, sleep } from '../helpers/relay-kit.ts';
import { send } from '../helpers/http.ts';

const { closers, file, relay, server } = relayKit();

describe('hooklab forward --once: a bin that keeps getting captures', () => {
  it('ends once past the newest capture when it caught up (exit 0, said); the next run forwards the rest, each once, in order', async () => {
    const s = await server();
    // 40 ms per answer: slower than the sender below, so the relay's queue never runs dry.
    const t = await recordingTarget((_q, res) => void setTimeout(() => res.end('ok'), 40));
    closers.push(() => t.close());
    const binId = await newBin(s.base);
    const binUrl = `${s.base}/h/${binId}`;
    const held = await capture(binUrl, 5, 'held');

    // A sender that keeps sending, one every 10 ms or so, until told to stop.
    const sent: string[] = [];
    let sending = true;
    const sender = (async () => {
      for (let i = 0; sending; i++) {
        const r = await send(`${binUrl}/live/${i}`, { body: `live ${i}` });
        expect(r.status).toBe(200);
        sent.push(r.headers['x-hooklab-request-id'] as string);
        await sleep(10);
      }
    })();
    try {
      while (sent.length < 3) await sleep(10); // it is sending before the relay starts

      const cursor = file('c-once.json');
      const r = relay([binUrl, '--to', `${t.base}/in`, '--from-start', '--once', '--cursor', cursor]);
      // Generous: it needs a few seconds; before the fix it never ended while the sender ran.
      const ended = await Promise.race([r.exited, sleep(30_000).then(() => 'still running' as const)]);
      expect(ended, r.err()).toBe(0);
      const once = t.got.map((g) => g.url);
      const live = once.length - held.length;
      // The held ones, then the live ones in order from the first: none skipped, none twice.
      expect(once).toEqual([...inOrder('held', 5), ...inOrder('live', live)]);
      expect(live).toBeGreaterThanOrEqual(3);
      const last = live ? sent[live - 1] : held[4];
      expect(JSON.parse(await readFile(cursor, 'utf8')).lastId).toBe(last);
      expect(r.err()).toMatch(new RegExp(`--once: done up to ${last}, the bin's newest capture when the relay caught up; those that came after it \\(\\d+ so far\\) are left for the next run\\n`));
      expect(sent.length).toBeGreaterThan(live); // it did end before the sender

      sending = false;
      await sender;
      t.answer = (_q, res) => res.end('ok'); // the rest at full speed
      const next = relay([binUrl, '--to', `${t.base}/in`, '--once', '--cursor', cursor]);
      expect(await next.exited, next.err()).toBe(0);
      expect(t.got.map((g) => g.url)).toEqual([...inOrder('held', 5), ...inOrder('live', sent.length)]);
    } finally {
      sending = false;
      await sender.catch(() => {});
    }
  }, 120_000);
});
