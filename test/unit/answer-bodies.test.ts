// AnswerBodies: a large configured answer body encoded once, its bytes shared by every answer.
import { describe, expect, it } from 'vitest';
import { AnswerBodies, SHARED_FROM_CHARS } from '../../server/capture/answer-bodies.ts';

describe('AnswerBodies', () => {
  it('a small body stays a string; a large one is one Buffer, the same for every answer', () => {
    const b = new AnswerBodies();
    expect(b.bytesOf('ok\n')).toBe('ok\n');
    const big = 'é'.repeat(SHARED_FROM_CHARS);
    const first = b.bytesOf(big);
    expect(Buffer.isBuffer(first) && first.toString()).toBe(big);
    expect(b.bytesOf(`${'é'.repeat(SHARED_FROM_CHARS - 1)}é`)).toBe(first); // equal text, another string
    expect(b.size).toBe(1);
  });

  it('keeps at most maxBytes, dropping the least recently used', () => {
    const b = new AnswerBodies(100_000);
    const body = (c: string) => c.repeat(40_000);
    const a = b.bytesOf(body('a'));
    b.bytesOf(body('b'));
    expect(b.bytesOf(body('a'))).toBe(a); // used again: now the newest
    b.bytesOf(body('c')); // 120,000 > 100,000: "b", the least recently used, goes
    expect(b.size).toBe(2);
    expect(b.bytesOf(body('a'))).toBe(a);
    // One larger than the whole budget is made for its answer, not kept.
    const huge = b.bytesOf('z'.repeat(150_000));
    expect((huge as Buffer).length).toBe(150_000);
    expect(b.bytesOf('z'.repeat(150_000))).not.toBe(huge);
    expect(b.size).toBe(2);
  });
});
