// One wording for an answer that never reached its sender: the sender hung up first, or hooklab
// closed the connection for an earlier pipelined request's fault (not the sender's doing).
import { describe, expect, it } from 'vitest';
import { notSentBadge, notSentDetail, notSentTag, notSentTitle } from '../../client/src/lib/not-sent.ts';

describe('not sent', () => {
  it('the sender hung up: said as before', () => {
    const a = { status: 200, fault: null, hungUpAfterMs: 10_000 };
    expect(notSentTag(a)).toBe('sender hung up');
    expect(notSentTitle(a)).toMatch(/^The sender hung up 10(\.0)? ?s after its request arrived/);
    expect(notSentBadge(a).sr).toBe(', not sent: the sender hung up first');
    expect(notSentDetail(a)).toMatch(/the sender hung up .* it never got it$/);
    expect(notSentDetail({ ...a, status: null, fault: 'timeout' })).toMatch(/the sender gave up .*\(a hang never answers\)$/);
  });

  it('hooklab closed the connection for an earlier request\'s fault: never "the sender hung up"', () => {
    const a = { status: 503, fault: null, hungUpAfterMs: 1_000, closedByFault: 'reset' as const };
    expect(notSentTag(a)).toBe('not sent');
    for (const words of [notSentTitle(a), notSentBadge(a).title, notSentBadge(a).sr, notSentDetail(a)]) {
      expect(words).toContain("an earlier request's reset on the same connection");
      expect(words).not.toMatch(/sender hung up/);
    }
    expect(notSentBadge({ ...a, closedByFault: 'timeout' }).title).toBe("503 was to be sent, but hooklab closed the connection first, for an earlier request's timeout on the same connection: the sender never got it");
  });
});
