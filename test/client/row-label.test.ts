// What a list row calls a capture: the dispatcher's label, else the payload's own name.
import { describe, expect, it } from 'vitest';
import { dispatchLabel, headerLabel, labelFrom, mayHaveLabel } from '../../client/src/lib/row-label.ts';
import { formatAgo } from '../../client/src/lib/format.ts';
import type { RequestItem } from '../../shared/api.ts';

describe('labelFrom', () => {
  it('reads event, type or action, Slack’s event.type, and GitHub’s header with its action', () => {
    expect(labelFrom({ event: 'sync_end', type: 'x' }, null)).toBe('sync_end');
    expect(labelFrom({ type: 'payment_intent.succeeded', id: 'evt_1' }, null)).toBe('payment_intent.succeeded');
    expect(labelFrom({ action: 'opened' }, null)).toBe('opened');
    expect(labelFrom({ type: 'event_callback', event: { type: 'message' } }, null)).toBe('message');
    expect(labelFrom({ action: 'opened', number: 1 }, [['X-GitHub-Event', 'pull_request']])).toBe('pull_request · opened');
    expect(labelFrom(null, [['x-github-event', 'push']])).toBe('push');
  });
  it('has nothing to say about other bodies', () => {
    for (const body of [null, 1, 'event', [{ event: 'x' }], { event: '' }, { event: 5 }, { data: { type: 'x' } }]) expect(labelFrom(body, [])).toBeNull();
  });
  it('keeps a long name short', () => {
    expect(labelFrom({ event: 'x'.repeat(200) }, null)!.length).toBe(80);
  });
});

describe('rows', () => {
  const item = (over: Partial<RequestItem>) => ({ id: '1', size: 10, truncated: false, contentType: 'application/json', ...over }) as RequestItem;
  it('dispatcher captures say their event and attempt; paged rows their GitHub header', () => {
    expect(dispatchLabel(item({ dispatch: { deliveryId: 'd', attempt: 3, event: 'sync_end', virtualAt: null } }))).toBe('sync_end · attempt 3');
    expect(headerLabel({ ...item({}), headers: [['X-GitHub-Event', 'push']] } as RequestItem)).toBe('push');
    expect(headerLabel(item({}))).toBeNull();
  });
  it('fetches a body for a label only when it is small JSON', () => {
    expect(mayHaveLabel(item({}), 1000)).toBe(true);
    expect(mayHaveLabel(item({ contentType: 'application/vnd.api+json; charset=utf-8' }), 1000)).toBe(true);
    expect(mayHaveLabel(item({ contentType: 'text/plain' }), 1000)).toBe(false);
    expect(mayHaveLabel(item({ size: 5000 }), 1000)).toBe(false);
    expect(mayHaveLabel(item({ size: 0 }), 1000)).toBe(false);
    expect(mayHaveLabel(item({ truncated: true }), 1000)).toBe(false);
  });
});

describe('formatAgo', () => {
  it('says how long ago, coarser as it gets older', () => {
    const now = Date.parse('2025-01-01T12:00:00Z');
    const ago = (ms: number) => formatAgo(now - ms, now);
    expect([ago(500), ago(12_000), ago(59_000), ago(61_000), ago(3 * 3_600_000 + 5), ago(2 * 86_400_000)]).toEqual(['just now', '12 s ago', '59 s ago', '1 min ago', '3 h ago', '2 d ago']);
  });
});
