import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../server/store/memory.ts';
import { fakeRequest, storeContract } from './contract.ts';

storeContract('memory', async (o) => new MemoryStore(o));


describe('memory store: pooled bodies', () => {
  it('keeps a small body that is a view of a larger buffer (Node pools small ones) as its own bytes', async () => {
    const s = new MemoryStore();
    await s.bins.put({ id: 'a', name: 'a', createdAt: 'x' });
    const view = Buffer.alloc(8192, 1).subarray(100, 700);
    await s.requests.append(fakeRequest('a', 'r1', { body: view }), 10);
    const kept = (await s.requests.body('a', 'r1'))!;
    expect(kept.equals(view)).toBe(true);
    expect(kept.buffer.byteLength).toBe(600);
  });
});
