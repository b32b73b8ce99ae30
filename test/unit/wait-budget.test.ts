import { describe, expect, it } from 'vitest';
import { WaitBudget } from '../../server/api/wait-budget.ts';

describe('WaitBudget', () => {
  it('caps per IP and per instance; a release counts once', () => {
    const b = new WaitBudget(3, 2);
    const a1 = b.take('a');
    const a2 = b.take('a');
    expect(typeof a1).toBe('function');
    expect(typeof a2).toBe('function');
    expect(b.take('a')).toBe('ip');
    const c1 = b.take('c');
    expect(typeof c1).toBe('function');
    expect(b.take('d')).toBe('instance');
    expect(b.size).toBe(3);
    (a1 as () => void)();
    (a1 as () => void)(); // twice: still one slot back
    expect(b.size).toBe(2);
    expect(typeof b.take('d')).toBe('function');
    expect(b.take('e')).toBe('instance');
    (a2 as () => void)();
    expect(typeof b.take('a')).toBe('function');
  });
});
