// The dispatcher's queue and its set of not-yet-sent instants (the clock's hold is their minimum).
import { describe, expect, it } from 'vitest';
import { DueQueue, InstantSet } from '../../server/dispatch/due-queue.ts';
import { receiverKey } from '../../server/dispatch/receiver-key.ts';
import { MinHeap } from '../../server/lib/min-heap.ts';
import { createRng } from '../../server/rng.ts';

describe('InstantSet', () => {
  it('answers the earliest instant held, counting repeats', () => {
    const s = new InstantSet();
    expect(s.min()).toBeNull();
    s.add(30);
    s.add(10);
    s.add(10);
    s.add(20);
    expect(s.min()).toBe(10);
    s.remove(10);
    expect(s.min()).toBe(10); // one 10 is still held
    s.remove(10);
    expect(s.min()).toBe(20);
    s.remove(99); // not held: nothing happens
    s.remove(20);
    expect(s.min()).toBe(30);
    s.add(10); // back after it went
    expect(s.min()).toBe(10);
    s.remove(10);
    s.remove(30);
    expect(s.min()).toBeNull();
    expect(s.size).toBe(0);
  });

  it('agrees with a scan over a long random run of adds and removes (the lazily dropped ones do not pile up or leak back)', () => {
    const rnd = createRng(3);
    const s = new InstantSet();
    const held: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      if (held.length === 0 || rnd() < 0.5) {
        const t = Math.floor(rnd() * 500);
        held.push(t);
        s.add(t);
      } else {
        const t = held.splice(Math.floor(rnd() * held.length), 1)[0];
        s.remove(t);
      }
      expect(s.min()).toBe(held.length ? Math.min(...held) : null);
    }
  });
});

describe('DueQueue', () => {
  it('pops earlier instants first, same instant in the order queued', () => {
    const q = new DueQueue();
    q.push({ at: 20, kind: 'attempt', id: 'a' });
    q.push({ at: 10, kind: 'attempt', id: 'b' });
    q.push({ at: 20, kind: 'run-end', id: 'c' });
    q.push({ at: 10, kind: 'attempt', id: 'd' });
    expect([q.pop(), q.pop(), q.pop(), q.pop(), q.pop()].map((e) => e?.id)).toEqual(['b', 'd', 'a', 'c', undefined]);
  });
});

describe('MinHeap', () => {
  it('pops in order over a long random run of pushes and pops, ties in the order the comparator gives', () => {
    const rnd = createRng(7);
    const h = new MinHeap<{ k: number; seq: number }>((a, b) => a.k < b.k || (a.k === b.k && a.seq < b.seq));
    const model: { k: number; seq: number }[] = [];
    let seq = 0;
    for (let i = 0; i < 5000; i++) {
      if (model.length === 0 || rnd() < 0.55) {
        const x = { k: Math.floor(rnd() * 50), seq: seq++ }; // few distinct keys: many ties
        h.push(x);
        model.push(x);
      } else {
        model.sort((a, b) => a.k - b.k || a.seq - b.seq);
        expect(h.pop()).toBe(model.shift());
      }
      expect(h.size).toBe(model.length);
    }
    model.sort((a, b) => a.k - b.k || a.seq - b.seq);
    for (const x of model) expect(h.pop()).toBe(x);
    expect(h.pop()).toBeUndefined();
  });
});

describe('receiverKey', () => {
  it('one of our bins by its id (any host, any sub-path), else the origin; the same answer when asked again', () => {
    for (let i = 0; i < 2; i++) {
      expect(receiverKey('http://127.0.0.1:3000/h/abc/x?y=1')).toBe('bin:abc');
      expect(receiverKey('https://hooklab.example/h/abc')).toBe('bin:abc');
      expect(receiverKey('https://other.example:8443/hooks/1')).toBe('https://other.example:8443');
      expect(receiverKey('not a url')).toBe('not a url');
    }
  });
});
