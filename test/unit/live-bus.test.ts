// The live bus sends a bin's events once per event-loop turn; a row that changes before its
// capture's event has left goes out in that event, with no `requests:updated` after it; rows
// changed after their events left go out together, one `requests:updated` per bin per turn.
import { describe, expect, it } from 'vitest';
import type { RequestItem } from '../../shared/api.ts';
import { type IoServer, SocketBus, UPDATES_PER_EVENT } from '../../server/live/bus.ts';

function fakeIo(watched = ['bin:b1']) {
  const sent: { room: string; event: string; data: unknown }[] = [];
  const io = {
    to: (room: string) => ({ emit: (event: string, data: unknown) => void sent.push({ room, event, data }) }),
    sockets: { adapter: { rooms: new Map(watched.map((room) => [room, new Set(['s1'])])) } },
  };
  return { io: io as unknown as IoServer, sent };
}

const item = (id: string, extra: Partial<RequestItem> = {}) => ({ id, binId: 'b1', method: 'POST', path: '/', ...extra }) as RequestItem;
const turn = () => new Promise((r) => setImmediate(r));

describe('live bus: changes to captures not sent yet', () => {
  it('sends a capture checked in its turn once, carrying the change, whatever its place in the batch', async () => {
    const { io, sent } = fakeIo();
    const bus = new SocketBus(io);
    const ids = Array.from({ length: 40 }, (_, i) => `r${String(i).padStart(2, '0')}`);
    for (const id of ids) bus.requestCaptured(item(id), []);
    for (const id of ids) bus.requestUpdated(item(id, { verification: { status: 'valid' } }));
    // One captured after the first updates of the turn is indexed too.
    bus.requestCaptured(item('r40'), []);
    bus.requestUpdated(item('r40', { verification: { status: 'missing' } }));
    await turn();
    expect(sent.map((s) => s.event)).toEqual(Array(41).fill('request'));
    expect(sent.map((s) => (s.data as RequestItem).id)).toEqual([...ids, 'r40']);
    expect(sent.map((s) => (s.data as RequestItem).verification?.status)).toEqual([...Array(40).fill('valid'), 'missing']);
  });

  it('sends changes to captures already sent in one requests:updated, after the turn\'s captures, each row once as it is last', async () => {
    const { io, sent } = fakeIo();
    const bus = new SocketBus(io);
    bus.requestCaptured(item('a'), []);
    bus.requestCaptured(item('c'), []);
    await turn();
    bus.requestCaptured(item('b'), []);
    bus.requestUpdated(item('a', { verification: { status: 'invalid' } }));
    bus.requestUpdated(item('c', { verification: { status: 'missing' } }));
    bus.requestUpdated(item('a', { verification: { status: 'valid' } }));
    await turn();
    const ev = (s: (typeof sent)[number]) => (s.event === 'request' ? [s.event, (s.data as RequestItem).id] : [s.event, ...(s.data as { items: RequestItem[] }).items.map((r) => `${r.id}:${r.verification?.status}`)]);
    expect(sent.map(ev)).toEqual([
      ['request', 'a'],
      ['request', 'c'],
      ['request', 'b'],
      ['requests:updated', 'a:valid', 'c:missing'],
    ]);
    expect(sent[3].data).toMatchObject({ binId: 'b1' });
    // A later turn starts a fresh index: a change to "b" (sent) is an update again.
    bus.requestUpdated(item('b', { verification: { status: 'valid' } }));
    await turn();
    expect(sent.slice(4).map(ev)).toEqual([['requests:updated', 'b:valid']]);
  });

  it('a change to a detail only (a forward result) goes out as its id, once, and not at all when the row goes out anyway', async () => {
    const { io, sent } = fakeIo();
    const bus = new SocketBus(io);
    bus.requestCaptured(item('a'), []);
    bus.requestCaptured(item('b'), []);
    await turn();
    bus.requestCaptured(item('c'), []);
    bus.requestDetailChanged('b1', 'a');
    bus.requestDetailChanged('b1', 'a');
    bus.requestDetailChanged('b1', 'b');
    bus.requestUpdated(item('b', { verification: { status: 'valid' } }));
    bus.requestDetailChanged('b1', 'c'); // its own event leaves in this turn
    await turn();
    expect(sent.slice(2).map((s) => [s.event, s.data])).toEqual([
      ['request', item('c')],
      ['requests:updated', { binId: 'b1', items: [item('b', { verification: { status: 'valid' } })], details: ['a'] }],
    ]);
    // Alone in a turn: an event with no rows.
    bus.requestDetailChanged('b1', 'b');
    await turn();
    expect(sent.slice(4).map((s) => s.data)).toEqual([{ binId: 'b1', items: [], details: ['b'] }]);
    // Nobody watching here (and not shared): nothing.
    const quiet = fakeIo([]);
    new SocketBus(quiet.io).requestDetailChanged('b1', 'a');
    await turn();
    expect(quiet.sent).toEqual([]);
  });

  it('splits a turn with very many changed rows into events of UPDATES_PER_EVENT', async () => {
    const { io, sent } = fakeIo();
    const bus = new SocketBus(io);
    const n = UPDATES_PER_EVENT * 2 + 3;
    for (let i = 0; i < n; i++) bus.requestUpdated(item(`r${i}`, { verification: { status: 'valid' } }));
    await turn();
    expect(sent.map((s) => (s.data as { items: RequestItem[] }).items.length)).toEqual([UPDATES_PER_EVENT, UPDATES_PER_EVENT, 3]);
    expect(sent.flatMap((s) => (s.data as { items: RequestItem[] }).items.map((r) => r.id))).toEqual(Array.from({ length: n }, (_, i) => `r${i}`));
  });

  it('a change to a bin nobody watches here is not encoded; with shared rooms (Redis) it always goes out, for viewers on other instances', async () => {
    const local = fakeIo([]);
    new SocketBus(local.io).requestUpdated(item('a', { verification: { status: 'valid' } }));
    await turn();
    expect(local.sent).toEqual([]);
    const shared = fakeIo([]);
    new SocketBus(shared.io, { shared: true }).requestUpdated(item('a', { verification: { status: 'valid' } }));
    await turn();
    expect(shared.sent.map((s) => [s.room, s.event])).toEqual([['bin:b1', 'requests:updated']]);
  });
});
