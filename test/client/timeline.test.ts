// The delivery timeline's geometry.
import { describe, expect, it } from 'vitest';
import type { Attempt, Delivery } from '../../shared/api.ts';
import { formatDuration } from '../../client/src/lib/format.ts';
import { deliveryTimeline } from '../../server/dispatch/timeline-export.ts';
import { CODE_CHAR_PX, attemptTone, codesShown, deliveryMarks, denseMarks, tickLabelsShown, ticks, timeToFraction, timelineLayout } from '../../client/src/lib/timeline.ts';

const DAY = 86_400_000;

describe('timeToFraction', () => {
  it('runs 0 -> 1 from the event to the deadline, clamped', () => {
    expect(timeToFraction(0, DAY)).toBe(0);
    expect(timeToFraction(DAY, DAY)).toBe(1);
    expect(timeToFraction(2 * DAY, DAY)).toBe(1);
    expect(timeToFraction(-5, DAY)).toBe(0);
  });
  it('gives seconds and hours both room (log scale)', () => {
    const f = (t: number) => timeToFraction(t, DAY);
    expect(f(1000)).toBeGreaterThan(0.05); // the first second is visible
    expect(f(60_000)).toBeGreaterThan(0.3); // a minute is a third of the way
    expect(f(3_600_000)).toBeLessThan(0.75); // and the last 23 hours still have a quarter
    const pts = [0, 500, 1000, 5000, 60_000, 600_000, 3_600_000, 21_600_000, DAY].map(f);
    expect([...pts].sort((a, b) => a - b)).toEqual(pts);
  });
  it('ticks at 1 s, 1 min, 1 h up to the deadline', () => {
    expect(ticks(DAY).filter((t) => t.major).map((t) => t.label)).toEqual(['0', '1 s', '1 min', '1 h']);
    expect(ticks(90_000).map((t) => t.label)).toEqual(['0', '1 s', '10 s', '1 min']);
  });
});

const attempt = (over: Partial<Attempt>): Attempt => ({
  n: 1,
  plannedAt: '2026-01-01T00:00:00.000Z',
  sentAt: '2026-01-01T00:00:00.000Z',
  status: 200,
  error: null,
  errorDetail: null,
  ok: true,
  durationMs: 3,
  requestHeaders: [],
  responseHeaders: [],
  responseBody: '',
  responseBodyTruncated: false,
  manual: false,
  capturedRequestId: null,
  ...over,
});

describe('marks', () => {
  it('green for success, amber for another status, red without one', () => {
    expect(attemptTone(attempt({}))).toBe('ok');
    expect(attemptTone(attempt({ ok: false, status: 503 }))).toBe('warn');
    expect(attemptTone(attempt({ ok: false, status: 301, error: 'redirect' }))).toBe('warn');
    expect(attemptTone(attempt({ ok: false, status: null, error: 'timeout' }))).toBe('bad');
  });

  it('made attempts at their time since the event; planned ones only while pending, from the next one on', () => {
    const t0 = Date.parse('2026-01-01T00:00:00.000Z');
    const iso = (ms: number) => new Date(t0 + ms).toISOString();
    const d = {
      createdAt: iso(0),
      state: 'pending',
      nextAttemptAt: iso(25_000),
      plannedAt: [0, 5_000, 25_000, 100_000, DAY].map(iso),
      schedule: { firstDelayMs: 5000, factor: 4, jitter: 0, deadlineMs: DAY },
      attempts: [
        attempt({ n: 1, sentAt: iso(0), ok: false, status: 500 }),
        attempt({ n: 2, sentAt: iso(5_000), ok: false, status: null, error: 'timeout' }),
      ],
    } as unknown as Delivery;
    const m = deliveryMarks(d);
    expect(m.deadlineMs).toBe(DAY);
    expect(m.attempts.map((a) => [a.n, a.t, a.tone])).toEqual([
      [1, 0, 'warn'],
      [2, 5000, 'bad'],
    ]);
    expect(m.planned).toEqual([
      { n: 3, t: 25_000 },
      { n: 4, t: 100_000 },
      { n: 5, t: DAY },
    ]);
    expect(deliveryMarks({ ...d, state: 'delivered', nextAttemptAt: null }).planned).toEqual([]);
  });

  it('planned marks are numbered on from the attempts made, manual retries included, as the export numbers them', () => {
    const t0 = Date.parse('2026-01-01T00:00:00.000Z');
    const iso = (ms: number) => new Date(t0 + ms).toISOString();
    // Three scheduled attempts, then two manual retries at +30 s: the next scheduled send is attempt 6.
    const d = {
      id: 'dl_x',
      createdAt: iso(0),
      state: 'pending',
      nextAttemptAt: iso(97_552),
      nextReason: 'schedule',
      nextReasonDetail: 'retry 3: waits 1 min 11 s as planned',
      plannedAt: [0, 4_270, 26_629, 97_552, 381_521, DAY].map(iso),
      schedule: { firstDelayMs: 5000, factor: 4, jitter: 0.2, deadlineMs: DAY },
      attempts: [
        attempt({ n: 1, sentAt: iso(0), ok: false, status: 500 }),
        attempt({ n: 2, plannedAt: iso(4_270), sentAt: iso(4_270), ok: false, status: 500 }),
        attempt({ n: 3, plannedAt: iso(26_629), sentAt: iso(26_629), ok: false, status: 500 }),
        attempt({ n: 4, plannedAt: iso(30_000), sentAt: iso(30_000), ok: false, status: 500, manual: true }),
        attempt({ n: 5, plannedAt: iso(30_000), sentAt: iso(30_000), ok: false, status: 500, manual: true }),
      ],
    } as unknown as Delivery;
    const m = deliveryMarks(d);
    expect(m.planned).toEqual([
      { n: 6, t: 97_552 },
      { n: 7, t: 381_521 },
      { n: 8, t: DAY },
    ]);
    const exported = deliveryTimeline(d).attempts.filter((a) => a.status === 'planned');
    expect(m.planned).toEqual(exported.map((a) => ({ n: a.n, t: a.offsetMs })));
  });
});

describe('attempts made after the deadline', () => {
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  const iso = (ms: number) => new Date(t0 + ms).toISOString();
  const delivery = (attempts: Attempt[]) =>
    ({ createdAt: iso(0), state: 'failed', nextAttemptAt: null, plannedAt: [0, DAY].map(iso), schedule: { deadlineMs: DAY }, attempts }) as unknown as Delivery;

  it('a manual retry 10 min after the deadline gets a place of its own right of the deadline attempt', () => {
    const m = deliveryMarks(
      delivery([
        attempt({ n: 1, ok: false, status: 500 }),
        attempt({ n: 2, plannedAt: iso(DAY), sentAt: iso(DAY), ok: false, status: 500 }),
        attempt({ n: 3, plannedAt: iso(DAY + 600_000), sentAt: iso(DAY + 600_000), ok: false, status: 500, manual: true }),
      ]),
    );
    expect(m.attempts.map((a) => a.past)).toEqual([false, false, true]);
    const l = timelineLayout(m.deadlineMs, m.attempts);
    expect(l.deadlineF).toBeLessThan(1);
    expect(l.marks[0]).toBe(0);
    expect(l.marks[1]).toBe(l.deadlineF); // the deadline attempt on the deadline line
    expect(l.marks[2]).toBe(1);
    expect(l.marks[2] - l.marks[1]).toBeCloseTo(0.08); // ~25 px on a phone: marks and codes apart
  });

  it('several retries after it go in order, evenly, within a bounded share; none: the scale is as before', () => {
    const ms = [1, 2, 3, 4, 5].map((k) => ({ t: DAY + k * 60_000, past: true }));
    const l = timelineLayout(DAY, [{ t: 0 }, { t: DAY }, ...ms]);
    expect(l.deadlineF).toBeCloseTo(0.7);
    const past = l.marks.slice(2);
    expect([...past].sort((a, b) => a - b)).toEqual(past);
    expect(past.at(-1)).toBe(1);
    for (let i = 1; i < past.length; i++) expect(past[i] - past[i - 1]).toBeCloseTo(0.06);
    // Times up to the deadline keep their log-scale places, shrunk to the left part.
    expect(l.f(60_000)).toBeCloseTo(timeToFraction(60_000, DAY) * 0.7);
    const none = timelineLayout(DAY, [{ t: 0 }, { t: 5000 }]);
    expect(none.deadlineF).toBe(1);
    expect(none.marks).toEqual([0, timeToFraction(5000, DAY)]);
  });

  it('a scheduled attempt sent a little late (a busy dispatcher) is still drawn on the deadline, not past it', () => {
    const m = deliveryMarks(delivery([attempt({ n: 1, plannedAt: iso(DAY), sentAt: iso(DAY + 2000), ok: false, status: 500 })]));
    expect(m.attempts[0].past).toBe(false);
    expect(timelineLayout(m.deadlineMs, m.attempts).marks).toEqual([1]);
  });
});

describe('which status codes are drawn above the marks', () => {
  const overlaps = (xs: number[], texts: string[], shown: boolean[]) => {
    const spans = xs.map((x, i) => [x - (texts[i].length * CODE_CHAR_PX) / 2, x + (texts[i].length * CODE_CHAR_PX) / 2]).filter((_, i) => shown[i]);
    spans.sort((a, b) => a[0] - b[0]);
    return spans.some((s, i) => i > 0 && s[0] < spans[i - 1][1]);
  };

  it('101 attempts a minute apart on a 24 h scale: no two drawn codes overlap, first and last kept', () => {
    // A webhook schedule of delaysMs 100 x 60000: attempts at 0, 1 min, ..., 100 min.
    const width = 900;
    const xs = Array.from({ length: 101 }, (_, k) => timeToFraction(k * 60_000, DAY) * width);
    const texts = xs.map(() => '500');
    const shown = codesShown(xs, texts);
    expect(shown[0]).toBe(true);
    expect(shown[100]).toBe(true);
    expect(overlaps(xs, texts, shown)).toBe(false);
    // Thinned, not emptied: the early, spread-out attempts keep theirs.
    expect(shown.filter(Boolean).length).toBeGreaterThan(5);
    expect(shown.filter(Boolean).length).toBeLessThan(30);
  });

  it('keeps every code when they fit, and the last even when it crowds the one before', () => {
    expect(codesShown([0, 100, 200], ['500', '503', '200'])).toEqual([true, true, true]);
    // Three codes on top of each other at the end: the middle one goes, the last stays.
    expect(codesShown([0, 300, 305, 310], ['500', '500', '500', '200'])).toEqual([true, false, false, true]);
    // Codes of any length (T/O, RST) take their own width.
    expect(codesShown([0, 30, 60], ['T/O', 'RST', '200'])).toEqual([true, true, true]);
    expect(codesShown([0, 10], ['500', '200'])).toEqual([true, true]);
    expect(codesShown([], [])).toEqual([]);
    expect(codesShown([5], ['500'])).toEqual([true]);
  });

  it('takes marks by their place on the line, the latest first, not by their order', () => {
    // Attempts 3 and 4 crowd each other left of attempt 2: the later on the line keeps its code.
    const shown = codesShown([0, 200, 100, 104, 300], ['500', '500', '500', '500', '200']);
    expect(shown).toEqual([true, true, false, true, true]);
  });
});

describe('which tick labels are drawn', () => {
  // As the Timeline places them: 3% of the width kept free at each end.
  const place = (deadlineMs: number, width: number) => {
    const px = (t: number) => (width * (3 + timeToFraction(t, deadlineMs) * 94)) / 100;
    const tks = ticks(deadlineMs);
    const xs = tks.map((t) => px(t.t));
    const text = formatDuration(deadlineMs);
    const shown = tickLabelsShown(tks, xs, px(deadlineMs), text);
    // Every drawn label's span, the deadline's included.
    const spans = [[px(deadlineMs) - text.length * CODE_CHAR_PX, px(deadlineMs)], ...tks.flatMap((t, i) => (shown[i] ? [t.t === 0 ? [xs[i], xs[i] + t.label.length * CODE_CHAR_PX] : [xs[i] - (t.label.length * CODE_CHAR_PX) / 2, xs[i] + (t.label.length * CODE_CHAR_PX) / 2]] : []))];
    spans.sort((a, b) => a[0] - b[0]);
    const minGap = Math.min(...spans.slice(1).map((s, i) => s[0] - spans[i][1]));
    return { labels: tks.filter((_, i) => shown[i]).map((t) => t.label), minGap };
  };

  it('a deadline a day or two (svix: 2 d 7 h; 30 h): "24 h" is left out where it would print under the deadline', () => {
    for (const deadline of [108_000_000, 2 * DAY + 7 * 3_600_000, 25 * 3_600_000, 3 * DAY]) {
      for (const width of [375, 600, 900, 1280]) {
        const { labels, minGap } = place(deadline, width);
        expect(minGap, `${deadline} at ${width} px`).toBeGreaterThanOrEqual(6);
        if (deadline <= 108_000_000) expect(labels, `${deadline} at ${width} px`).not.toContain('24 h');
      }
    }
    // Where there is room, it stays.
    expect(place(2 * DAY + 7 * 3_600_000, 1280).labels).toContain('24 h');
    expect(place(7 * DAY + 1, 900).labels).toContain('24 h');
  });

  it('a 24 h deadline on a phone: "0" and "1 s" no longer touch; on a wide screen all are drawn', () => {
    const phone = place(DAY, 375 - 2 * 16);
    expect(phone.minGap).toBeGreaterThanOrEqual(6);
    expect(phone.labels).toContain('1 s');
    expect(phone.labels).toContain('1 h');
    expect(place(DAY, 1200).labels).toEqual(['0', '1 s', '10 s', '1 min', '10 min', '1 h', '6 h']);
  });
});

describe('dense marks', () => {
  it('100 attempts 10 min apart on a 24 h scale: the ~1 px apart ones from a few hours on are dense, the early ones not', () => {
    const width = 900;
    const xs = Array.from({ length: 100 }, (_, k) => timeToFraction(k * 600_000, DAY) * width * 0.94);
    const dense = denseMarks(xs);
    // The first ones are far apart on the log scale.
    expect(dense.slice(0, 5)).toEqual([false, false, false, false, false]);
    // From 6 h (attempt 37) to the end, every mark is within a few px of the next.
    expect(dense.slice(36).every(Boolean)).toBe(true);
  });

  it('by place, not by order; exactly DENSE_PX apart is not dense', () => {
    expect(denseMarks([0, 100, 2, 50])).toEqual([true, false, true, false]);
    expect(denseMarks([0, 4, 8])).toEqual([false, false, false]);
    expect(denseMarks([])).toEqual([]);
    expect(denseMarks([7])).toEqual([false]);
  });
});
