// The bin page's live request count (client/src/lib/live-count.ts): counted from the events at
// once, read again from the bin at most once per interval while they come, a read corrected by
// the events after it was sent; and the words of the tab and of the list's end (list-end.ts).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { listEndText, tabCount } from '../../client/src/lib/list-end.ts';
import { LiveCount } from '../../client/src/lib/live-count.ts';

describe('LiveCount', () => {
  beforeEach(() => void vi.useFakeTimers({ now: 0 }));
  afterEach(() => void vi.useRealTimers());

  /** A counter over a bin that holds `stored.n`; reads answer after `delayMs`. */
  function setup(stored: { n: number }, delayMs = 0) {
    const reads: number[] = [];
    let changes = 0;
    const c = new LiveCount({
      read: () => {
        reads.push(Date.now());
        const n = stored.n;
        return new Promise((r) => setTimeout(() => r(n), delayMs));
      },
      onChange: () => void changes++,
      intervalMs: 2000,
    });
    return { c, reads, changes: () => changes };
  }

  it('counts captures, deletions and evictions from the events, without reading the bin per event', async () => {
    const bin = { n: 650 };
    const { c, reads } = setup(bin);
    expect(c.value).toBeNull();
    c.set(650);
    expect(c.value).toBe(650);
    for (let i = 0; i < 5000; i++) {
      bin.n++;
      c.capture(`r${i}`);
      await vi.advanceTimersByTimeAsync(1);
    }
    expect(c.value).toBe(5650);
    // 5 s of events: a read per 2 s at most.
    expect(reads.length).toBeLessThanOrEqual(3);
    c.removed(1);
    bin.n--;
    expect(c.value).toBe(5649);
    await vi.advanceTimersByTimeAsync(5000);
    expect(c.value).toBe(5649);
    // Nothing more came: no more reads.
    const after = reads.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reads.length).toBe(after);
    c.stop();
  });

  it('counts an id announced twice once, and a clear as 0', async () => {
    const { c } = setup({ n: 0 });
    c.set(3);
    c.capture('a');
    c.capture('a');
    expect(c.value).toBe(4);
    c.cleared();
    expect(c.value).toBe(0);
    c.capture('b');
    expect(c.value).toBe(1);
    c.stop();
  });

  it('is corrected by a read when the events missed something (a resubscribe), and keeps what came while the read was out', async () => {
    const bin = { n: 100 };
    const { c, reads } = setup(bin, 300);
    c.set(90);
    // Joined again after a lost connection: read at once (nothing read for a while).
    await vi.advanceTimersByTimeAsync(5000);
    c.resync();
    await vi.advanceTimersByTimeAsync(100);
    // A capture while the read is out: it may come after the server answered the read.
    c.capture('late');
    await vi.advanceTimersByTimeAsync(300);
    expect(reads.length).toBe(1);
    expect(c.value).toBe(101);
    c.stop();
  });

  it("does not count a subscribe's replay again: what it replays until it answers is read from the bin at once", async () => {
    // A bin of 5,000; a filtered list subscribes from its newest match, so the replay holds
    // 3,000 captures the first read counted, then 2 that came after that read.
    const bin = { n: 5000 };
    const { c, reads } = setup(bin, 50);
    c.set(5000);
    c.joining();
    bin.n = 5002;
    for (let i = 0; i < 3002; i++) c.capture(`r${i}`);
    // Before: 8,002 for up to 2 s (at a 6,000 cap the list's end said older ones were pushed out).
    expect(c.value).toBe(5000);
    c.joined();
    await vi.advanceTimersByTimeAsync(60);
    expect(reads).toEqual([0]);
    expect(c.value).toBe(5002);
    // Live from then on, one by one.
    bin.n++;
    c.capture('live');
    expect(c.value).toBe(5003);
    // A reconnect's subscribe replays what was missed meanwhile: read again, not counted twice.
    await vi.advanceTimersByTimeAsync(5000);
    c.joining();
    bin.n += 10;
    for (let i = 0; i < 10; i++) c.capture(`m${i}`);
    c.joined();
    await vi.advanceTimersByTimeAsync(60);
    expect(c.value).toBe(5013);
    c.stop();
  });

  it('drops a read that was out when the bin was cleared', async () => {
    const bin = { n: 40 };
    const { c } = setup(bin, 300);
    c.set(40);
    await vi.advanceTimersByTimeAsync(5000);
    c.resync();
    await vi.advanceTimersByTimeAsync(100);
    bin.n = 0;
    c.cleared();
    await vi.advanceTimersByTimeAsync(300);
    expect(c.value).toBe(0);
    c.stop();
  });

  it('gives up on a read that never answers (15 s by default), reads again, and ignores its late answer', async () => {
    const bin = { n: 10 };
    const reads: number[] = [];
    const signals: AbortSignal[] = [];
    let late: ((n: number) => void) | null = null;
    const c = new LiveCount({
      read: (signal) => {
        reads.push(Date.now());
        signals.push(signal);
        // The first read hangs (a stalled connection); the later ones answer.
        if (reads.length === 1) return new Promise<number>((r) => (late = r));
        return Promise.resolve(bin.n);
      },
      onChange: () => {},
      intervalMs: 2000,
    });
    c.set(10);
    await vi.advanceTimersByTimeAsync(5000);
    c.resync();
    await vi.advanceTimersByTimeAsync(100);
    expect(reads).toHaveLength(1);
    // Captures keep coming while it hangs: counted from the events meanwhile.
    for (let i = 0; i < 200; i++) {
      bin.n++;
      c.capture(`r${i}`);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(c.value).toBe(210);
    // Before: that read held `inFlight` forever, so no other read was ever made (and the ids
    // since it was sent piled up). Now it is given up after 15 s and the bin is read again.
    expect(reads.length).toBeGreaterThanOrEqual(2);
    expect(reads[1] - reads[0]).toBeGreaterThanOrEqual(15_000);
    // Given up is ended too (a fetch given this signal closes its request); those that answered are not.
    expect(signals[0].aborted).toBe(true);
    expect(signals.slice(1).some((s) => s.aborted)).toBe(false);
    // The bin holds more than the events said (some were missed): a read corrects it.
    bin.n = 230;
    c.resync();
    await vi.advanceTimersByTimeAsync(3000);
    expect(c.value).toBe(230);
    // The hung read answers at last, with what the bin held when it was sent: ignored.
    late!(10);
    await vi.advanceTimersByTimeAsync(3000);
    expect(c.value).toBe(230);
    c.stop();
  });

  it('takes the read timeout as an option', async () => {
    const reads: number[] = [];
    const c = new LiveCount({
      read: () => {
        reads.push(Date.now());
        return new Promise<number>(() => {});
      },
      onChange: () => {},
      intervalMs: 2000,
      readTimeoutMs: 4000,
    });
    c.set(1);
    c.resync();
    await vi.advanceTimersByTimeAsync(2000);
    expect(reads).toEqual([2000]);
    c.capture('a');
    // Still out at 3.9 s: no second read; given up at 4 s, then read again at once (the
    // interval since the first was sent has passed).
    await vi.advanceTimersByTimeAsync(3900);
    expect(reads).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(reads).toHaveLength(2);
    expect(reads[1]).toBeGreaterThanOrEqual(6000);
    expect(reads[1]).toBeLessThan(6100);
    expect(c.value).toBe(2);
    c.stop();
  });

  it('keeps counting from the events when a read fails', async () => {
    const c = new LiveCount({ read: () => Promise.reject(new Error('offline')), onChange: () => {}, intervalMs: 2000 });
    c.set(10);
    c.capture('x');
    await vi.advanceTimersByTimeAsync(5000);
    expect(c.value).toBe(11);
    c.stop();
  });
});

describe('the tab count and the end of the list', () => {
  it('counts what the bin holds, not what is loaded', () => {
    expect(tabCount({ loaded: 200, hasOlder: true, loading: false, filtered: false, stored: 5000 })).toBe('5,000');
    // All loaded: the rows are the count.
    expect(tabCount({ loaded: 12, hasOlder: false, loading: false, filtered: false, stored: 12 })).toBe('12');
    // Not read yet: what is loaded, "+" for more.
    expect(tabCount({ loaded: 200, hasOlder: true, loading: false, filtered: false, stored: null })).toBe('200+');
    // A search: the matches loaded so far, as before.
    expect(tabCount({ loaded: 200, hasOlder: true, loading: false, filtered: true, stored: 5000 })).toBe('200+');
    expect(tabCount({ loaded: 7, hasOlder: false, loading: false, filtered: true, stored: 5000 })).toBe('7');
  });

  it('says when the bin is at its cap, and how many were pushed out while watching', () => {
    expect(listEndText({ n: 12, filtered: false, stored: 12, max: 500, pushedOut: 0 })).toBe('That is all: 12 requests.');
    expect(listEndText({ n: 1, filtered: false, stored: 1, max: undefined, pushedOut: 0 })).toBe('That is all: 1 request.');
    // At the cap, and this page saw some pushed out: said for sure.
    expect(listEndText({ n: 500, filtered: false, stored: 500, max: 500, pushedOut: 2500 })).toBe(
      'That is all the bin keeps: its newest 500 requests (MAX_REQUESTS_PER_BIN); older ones were pushed out as new ones came. 2,500 were pushed out while this page was open.',
    );
    expect(listEndText({ n: 40, filtered: true, stored: 500, max: 500, pushedOut: 3 })).toBe(
      'That is all: 40 requests. The bin keeps only its newest 500 (MAX_REQUESTS_PER_BIN): older ones were pushed out, matching or not. 3 were pushed out while this page was open.',
    );
    // Under the cap, yet some were pushed out (MAX_STORE_BYTES, or deletions since).
    expect(listEndText({ n: 480, filtered: false, stored: 480, max: 500, pushedOut: 1 })).toMatch(/^That is all: 480 requests\. One older one was pushed out by a cap/);
  });

  it('does not say older ones were pushed out when none was seen to be: a bin may hold exactly its cap and have lost none', () => {
    expect(listEndText({ n: 500, filtered: false, stored: 500, max: 500, pushedOut: 0 })).toBe(
      'That is all the bin keeps: its newest 500 requests (MAX_REQUESTS_PER_BIN); any older ones were pushed out as new ones came.',
    );
    expect(listEndText({ n: 40, filtered: true, stored: 500, max: 500, pushedOut: 0 })).toBe(
      'That is all: 40 requests. The bin keeps only its newest 500 (MAX_REQUESTS_PER_BIN): any older ones were pushed out, matching or not.',
    );
  });
});
