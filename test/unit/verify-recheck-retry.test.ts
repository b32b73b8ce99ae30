// A settings change's re-check that the store fails is retried in the background, waits
// doubling, until it gets through; one whose settings were replaced meanwhile is not retried
// (the newer settings' own re-check covers the bin). Real Verifier on a MemoryStore.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../server/store/memory.ts';
import { StoreReadError } from '../../server/store/types.ts';
import { Verifier } from '../../server/verify/service.ts';

const BIN = 'retry-bin';
const settings = (secret: string) => ({ schemes: [{ type: 'github' as const, secrets: [secret] }] });

async function setUp(failures: number) {
  const store = new MemoryStore();
  await store.bins.put({ id: BIN, name: 'b', createdAt: new Date().toISOString() });
  const items = store.requests.items.bind(store.requests);
  const calls: number[] = [];
  let left = failures;
  store.requests.items = async (...args: Parameters<typeof items>) => {
    calls.push(Date.now());
    if (left-- > 0) throw new StoreReadError('test fault');
    return items(...args);
  };
  const waits: number[] = [];
  const verifier = new Verifier({ store, recheckRetryMs: { first: 20, max: 80 }, onRecheckFailed: (_b, _e, ms) => waits.push(ms) });
  return { verifier, calls, waits };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a failed re-check after a settings change', () => {
  it('is retried, waits doubling up to the most, until the store reads', async () => {
    const { verifier, calls, waits } = await setUp(4);
    await verifier.save(BIN, settings('s1'));
    expect(await verifier.recheckAfterChange(BIN)).toMatchObject({ rechecked: null, recheckError: expect.stringContaining('test fault') });
    for (let i = 0; i < 200 && calls.length < 5; i++) await sleep(10);
    expect(calls).toHaveLength(5); // the first try, three failed retries, the one that got through
    expect(waits).toEqual([20, 40, 80, 80]);
    await sleep(300);
    expect(calls).toHaveLength(5); // and no more after it got through
  });

  it('is not retried once newer settings replaced the ones it was for', async () => {
    const { verifier, calls, waits } = await setUp(1);
    await verifier.save(BIN, settings('s1'));
    expect((await verifier.recheckAfterChange(BIN)).rechecked).toBeNull();
    await verifier.save(BIN, settings('s2')); // before the retry's wait is over
    expect(await verifier.recheckAfterChange(BIN)).toEqual({ rechecked: 0 });
    await sleep(200);
    expect(calls).toHaveLength(2); // the failed one and the newer settings' own
    expect(waits).toEqual([20]);
  });
});

describe('closing the verifier', () => {
  it('stops the retries it had planned', async () => {
    const { verifier, calls } = await setUp(10);
    await verifier.save(BIN, settings('s1'));
    expect((await verifier.recheckAfterChange(BIN)).rechecked).toBeNull();
    verifier.close();
    await sleep(200);
    expect(calls).toHaveLength(1);
  });
});
