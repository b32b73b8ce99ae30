// The dispatcher page re-fetches its lists when it joins the live events: a fetch answered
// before a change must not undo that change's event, which may have arrived first.
import { describe, expect, it } from 'vitest';
import type { Webhook } from '../../shared/api.ts';
import { mergeWebhooks, upsertWebhook } from '../../client/src/lib/webhook-list.ts';

const hook = (id: string, updatedAt: string, enabled = true) => ({ id, updatedAt, enabled }) as unknown as Webhook;

describe('mergeWebhooks', () => {
  it('keeps a webhook a live event made newer than the fetched copy', () => {
    const disabled = hook('w1', '2026-12-02T10:00:01.000Z', false);
    const stale = hook('w1', '2026-12-02T10:00:00.000Z', true);
    expect(mergeWebhooks([disabled], [stale])).toEqual([disabled]);
  });
  it('takes the fetched copy when it is as new or newer, and the fetched list decides which exist', () => {
    const old = hook('w1', '2026-12-02T10:00:00.000Z', true);
    const fresh = hook('w1', '2026-12-02T10:00:02.000Z', false);
    const other = hook('w2', '2026-12-02T09:00:00.000Z');
    expect(mergeWebhooks([old, hook('gone', '2026-12-02T08:00:00.000Z')], [fresh, other])).toEqual([fresh, other]);
    expect(mergeWebhooks(null, [other])).toEqual([other]);
  });
  it('keeps a webhook made, and leaves out one deleted, while the read was out (live events per id)', () => {
    const kept = hook('w1', '2026-12-02T09:00:00.000Z');
    const made = hook('w2', '2026-12-02T10:00:00.000Z');
    const deleted = hook('w3', '2026-12-02T09:00:00.000Z');
    const during = new Map<string, Webhook | null>([
      ['w2', made],
      ['w3', null],
    ]);
    // The page already applied both events; the read was answered before them.
    expect(mergeWebhooks([kept, made], [kept, deleted], during)).toEqual([kept, made]);
    // A newer copy the page holds beats the event's.
    const renamed = hook('w2', '2026-12-02T10:00:05.000Z');
    expect(mergeWebhooks([kept, renamed], [kept], during)).toEqual([kept, renamed]);
    // Same updatedAt (a failure streak's change): the copy a live event brought during the read wins.
    const streak = { ...kept, failing: { since: '2026-12-02T09:30:00.000Z', deliveries: 3 } } as Webhook;
    expect(mergeWebhooks([streak], [kept], new Map([['w1', streak]]))).toEqual([streak]);
  });
});

describe('upsertWebhook', () => {
  it("keeps a newer version a live event brought over a save's late answer, and adds one not listed", () => {
    const saved = hook('w1', '2026-12-02T10:00:00.000Z', true);
    const later = hook('w1', '2026-12-02T10:00:01.000Z', false);
    const other = hook('w2', '2026-12-02T09:00:00.000Z');
    expect(upsertWebhook([other, later], saved)).toEqual([other, later]);
    expect(upsertWebhook([other, saved], later)).toEqual([other, later]);
    expect(upsertWebhook([other], saved)).toEqual([other, saved]);
    expect(upsertWebhook(null, saved)).toEqual([saved]);
    // A streak told after the save (same updatedAt) is not undone by the save's answer.
    const streak = { ...saved, failing: { since: '2026-12-02T10:00:00.500Z', deliveries: 2 } } as unknown as Webhook;
    expect(upsertWebhook([other, streak], saved)).toEqual([other, streak]);
  });
});
