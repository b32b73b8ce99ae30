// What the start page says of a bin that expires when idle (BIN_IDLE_DAYS).
import { describe, expect, it } from 'vitest';
import { idleExpiryText } from '../../client/src/lib/format.ts';

const NOW = Date.parse('2026-12-03T12:00:00.000Z');

describe('idleExpiryText', () => {
  it('says when it goes while the deadline is ahead', () => {
    expect(idleExpiryText('2026-12-10T12:00:00.000Z', NOW)).toBe('deleted in 7 d if idle');
    expect(idleExpiryText('2026-12-03T15:30:00.000Z', NOW)).toBe('deleted in 3 h 30 min if idle');
  });

  it('says "soon" once it is past due (the next sweep takes it), never "… ago"', () => {
    expect(idleExpiryText('2026-12-03T11:59:00.000Z', NOW)).toBe('idle: deleted soon');
    expect(idleExpiryText('2026-12-03T12:00:00.000Z', NOW)).toBe('idle: deleted soon');
  });
});
