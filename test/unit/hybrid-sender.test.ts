// The dispatcher's sender choice: attempts one at a time on the main thread (no cross-thread
// round trip), a burst on the sender thread.
import { describe, expect, it } from 'vitest';
import { hybridSend } from '../../server/dispatch/hybrid-sender.ts';
import type { SendRequest, SendResult } from '../../server/dispatch/send.ts';

const ok: SendResult = { status: 200, error: null, errorDetail: null, durationMs: 1, headers: [], body: '', bodyTruncated: false } as unknown as SendResult;

/** Sends that wait until opened, each noting which way it went. */
function heldSends() {
  const via: string[] = [];
  const gate: (() => void)[] = [];
  const held = (name: string) => (req: SendRequest) =>
    new Promise<SendResult>((resolve) => {
      via.push(`${name}:${req.url}`);
      gate.push(() => resolve(ok));
    });
  return { via, gate, held };
}

describe('hybrid sender', () => {
  it('sends up to inlineMax at once inline, the rest through the thread; a lone one after a burst goes inline again', async () => {
    const { via, gate, held } = heldSends();
    const send = hybridSend(held('inline'), held('thread'), { inlineMax: 2 });
    const burst = ['a', 'b', 'c', 'd', 'e'].map((u) => send({ url: u } as SendRequest));
    expect(via).toEqual(['inline:a', 'inline:b', 'thread:c', 'thread:d', 'thread:e']);
    for (const open of gate.splice(0)) open();
    await Promise.all(burst);
    const lone = send({ url: 'f' } as SendRequest);
    expect(via.at(-1)).toBe('inline:f');
    gate.splice(0).forEach((open) => open());
    await lone;
  });

  it('a failed inline send frees its place', async () => {
    const via: string[] = [];
    const send = hybridSend(
      async (r) => {
        via.push(`inline:${r.url}`);
        throw new Error('boom');
      },
      async (r) => {
        via.push(`thread:${r.url}`);
        return ok;
      },
      { inlineMax: 1 },
    );
    await expect(send({ url: 'a' } as SendRequest)).rejects.toThrow('boom');
    await send({ url: 'b' } as SendRequest).catch(() => {});
    expect(via).toEqual(['inline:a', 'inline:b']);
  });

  it("attempts to hooklab's own receivers always go inline, however many are in flight", async () => {
    const { via, gate, held } = heldSends();
    const send = hybridSend(held('inline'), held('thread'), { inlineMax: 1, isOwn: (u) => u.startsWith('own') });
    const all = ['own1', 'own2', 'far1', 'own3', 'far2'].map((u) => send({ url: u } as SendRequest));
    expect(via).toEqual(['inline:own1', 'inline:own2', 'inline:far1', 'inline:own3', 'thread:far2']);
    gate.splice(0).forEach((open) => open());
    await Promise.all(all);
  });
});
