// What a list row calls a capture: the dispatcher's label, else the payload's own name.
import { describe, expect, it } from 'vitest';
import {
  dispatchLabel,
  formatSources,
  fullLabel,
  headerLabel,
  labelBySources,
  labelFrom,
  mayHaveLabel,
  needsDetail,
  parseSources,
  quickLabel,
  valueAt,
} from '../../client/src/lib/row-label.ts';
import { LabelFrom } from '../../shared/schema/bins.ts';
import { fieldErrors } from '../../shared/schema/common.ts';
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

describe("a bin's own sources (labelFrom)", () => {
  const stripe = { type: 'event', data: { object: { type: 'invoice.paid', amount: 1250, live: false, lines: [{ kind: 'fee' }, { kind: 'tax' }] } } };
  const item = (over: Partial<RequestItem> & { headers?: [string, string][] } = {}) =>
    ({ id: '1', size: 10, truncated: false, contentType: 'application/json', ...over }) as RequestItem;

  it('reads dot paths into a JSON body, array items by index', () => {
    expect(valueAt(stripe, 'data.object.type')).toBe('invoice.paid');
    expect(valueAt(stripe, 'data.object.lines.1.kind')).toBe('tax');
    expect(valueAt([{ kind: 'a' }], '0.kind')).toBe('a');
    for (const p of ['data.object.lines.x', 'data.object.lines.5.kind', 'data.nope.type', 'type.length', 'constructor', 'data.object.type.0']) expect(valueAt(stripe, p)).toBeUndefined();
  });

  it('the first source with a value wins: strings trimmed, numbers and booleans as text', () => {
    expect(labelBySources(['json:data.object.type'], stripe, [])).toBe('invoice.paid');
    expect(labelBySources(['json:missing', 'json:data.object.type', 'json:type'], stripe, [])).toBe('invoice.paid');
    expect(labelBySources(['json:data.object.amount'], stripe, [])).toBe('1250');
    expect(labelBySources(['json:data.object.live'], stripe, [])).toBe('false');
    // Objects, arrays, null and blank strings have nothing to say: the next source does.
    expect(labelBySources(['json:data', 'json:data.object.lines', 'json:none', 'json:type'], { ...stripe, none: null }, [])).toBe('event');
    expect(labelBySources(['json:blank', 'json:type'], { blank: '  ', type: 'x' }, [])).toBe('x');
    expect(labelBySources(['json:a'], { a: 'x'.repeat(300) }, [])!.length).toBe(80);
  });

  it('reads headers by name, any case, in the order given', () => {
    const headers: [string, string][] = [['X-Event-Type', 'order.created'], ['X-Hooklab-Attempt', '3']];
    expect(labelBySources(['header:x-event-type'], null, headers)).toBe('order.created');
    expect(labelBySources(['header:X-HOOKLAB-ATTEMPT', 'header:x-event-type'], null, headers)).toBe('3');
    expect(labelBySources(['json:type', 'header:x-event-type'], { type: 'first' }, headers)).toBe('first');
    expect(labelBySources(['header:x-missing', 'json:type'], { type: 'body' }, headers)).toBe('body');
    expect(labelBySources(['header:x-missing'], null, null)).toBeNull();
    // An unknown body (not fetched yet) says nothing to json: sources.
    expect(labelBySources(['json:type', 'header:x-event-type'], undefined, headers)).toBe('order.created');
  });

  it('falls back to the built-in rules when no source has a value, or there are none', () => {
    const dispatch = { deliveryId: 'd', attempt: 3, event: 'sync_end', virtualAt: null };
    expect(fullLabel(item(), ['json:data.object.type'], stripe, [])).toBe('invoice.paid');
    expect(fullLabel(item(), ['json:nope'], stripe, [])).toBe('event');
    expect(fullLabel(item(), [], stripe, [])).toBe('event');
    expect(fullLabel(item(), null, { action: 'opened' }, [['X-GitHub-Event', 'pull_request']])).toBe('pull_request · opened');
    expect(fullLabel(item(), ['json:nope'], { x: 1 }, [])).toBeNull();
    // A dispatcher capture: the bin's sources first, its event and attempt when they say nothing.
    expect(fullLabel(item({ dispatch }), ['json:flow_id'], { flow_id: 42 }, [])).toBe('42');
    expect(fullLabel(item({ dispatch }), ['json:nope'], { event: 'x' }, [])).toBe('sync_end · attempt 3');
    // Before the detail is fetched: what the row carries.
    expect(quickLabel(item({ dispatch }), null)).toBe('sync_end · attempt 3');
    expect(quickLabel(item({ headers: [['X-Kind', 'k1'], ['X-GitHub-Event', 'push']] }), ['header:x-kind'])).toBe('k1');
    expect(quickLabel(item({ headers: [['X-GitHub-Event', 'push']] }), ['header:x-kind'])).toBe('push');
    expect(quickLabel(item(), ['json:type'])).toBeNull();
  });

  it('fetches the detail for json: sources on small JSON, for header: sources on rows without headers', () => {
    expect(needsDetail(item(), 1000, ['json:type'])).toBe(true);
    expect(needsDetail(item({ contentType: 'text/plain' }), 1000, ['json:type'])).toBe(false);
    expect(needsDetail(item({ contentType: 'text/plain' }), 1000, ['header:x-kind'])).toBe(true);
    expect(needsDetail(item({ contentType: 'text/plain', headers: [] }), 1000, ['header:x-kind'])).toBe(false);
    expect(needsDetail(item({ contentType: 'text/plain', size: 5_000_000 }), 1000, ['header:x-kind'])).toBe(false);
    expect(needsDetail(item({ dispatch: { deliveryId: 'd', attempt: 1, event: 'e', virtualAt: null } }), 1000, ['json:flow_id'])).toBe(true);
    // No sources: exactly the built-in rules' choice.
    expect(needsDetail(item({ dispatch: { deliveryId: 'd', attempt: 1, event: 'e', virtualAt: null } }), 1000, [])).toBe(false);
    expect(needsDetail(item({ contentType: 'text/plain' }), 1000, undefined)).toBe(false);
  });

  it('the editor’s text: comma-separated, trimmed, blanks dropped', () => {
    expect(parseSources(' json:data.object.type ,header:x-kind,, ')).toEqual(['json:data.object.type', 'header:x-kind']);
    expect(parseSources('   ')).toEqual([]);
    expect(formatSources(['json:a', 'header:b'])).toBe('json:a, header:b');
    expect(formatSources(undefined)).toBe('');
  });

  it('the schema names every bad source at once', () => {
    expect(LabelFrom.safeParse(['json:data.object.type', 'header:X-GitHub-Event', 'json:items.0.kind']).success).toBe(true);
    const r = LabelFrom.safeParse(['json:ok', 'nope', 'json:', 'json:a..b', 'header:', 'header:bad name', '', `json:${'a'.repeat(200)}`]);
    expect(r.success).toBe(false);
    expect(fieldErrors(r.error!, 'labelFrom').map((f) => `${f.field}: ${f.message}`)).toEqual([
      '[1]: must start with json: or header:',
      '[2]: needs a path after "json:" (e.g. json:data.object.type)',
      '[3]: has an empty path segment (write json:a.b.0.c)',
      '[4]: needs a header name after "header:" (e.g. header:x-github-event)',
      '[5]: is not a valid header name',
      '[6]: must not be empty',
      '[7]: must be at most 200 characters',
    ]);
    const many = LabelFrom.safeParse(Array.from({ length: 11 }, (_, i) => `json:a${i}`));
    expect(fieldErrors(many.error!, 'labelFrom')).toEqual([{ field: 'labelFrom', message: 'at most 10 entries' }]);
  });
});

describe('formatAgo', () => {
  it('says how long ago, coarser as it gets older', () => {
    const now = Date.parse('2025-01-01T12:00:00Z');
    const ago = (ms: number) => formatAgo(now - ms, now);
    expect([ago(500), ago(12_000), ago(59_000), ago(61_000), ago(3 * 3_600_000 + 5), ago(2 * 86_400_000)]).toEqual(['just now', '12 s ago', '59 s ago', '1 min ago', '3 h ago', '2 d ago']);
  });
});
