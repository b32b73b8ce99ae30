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

describe('retries of settings turned off, and of a bin removed', () => {
  it('turning checks off twice keeps one retry chain, and removing the bin ends it', async () => {
    const { verifier, calls, waits } = await setUp(1000);
    await verifier.save(BIN, settings('s1'));
    for (let i = 0; i < 3; i++) {
      await verifier.save(BIN, null);
      expect((await verifier.recheckAfterChange(BIN)).rechecked).toBeNull();
    }
    await sleep(150);
    // Each change failed once (20 ms planned), then one chain went on (40, 80, 80 ms...): the
    // first two were ended by the changes after them (three chains: 40 three times).
    expect(waits.slice(0, 3)).toEqual([20, 20, 20]);
    expect(waits.slice(3, 5)).toEqual([40, 80]);
    expect(waits.filter((w) => w === 40)).toHaveLength(1);
    await verifier.forget(BIN);
    const after = calls.length;
    await sleep(300);
    expect(calls.length).toBeLessThanOrEqual(after + 1); // at most the one under way when it went
  });

  it('a re-check that fails after the bin was removed meanwhile plans no retry', async () => {
    const { verifier, waits } = await setUp(1000);
    await verifier.save(BIN, settings('s1'));
    const pending = verifier.recheckAfterChange(BIN);
    await verifier.forget(BIN); // while its store read is out
    expect((await pending).rechecked).toBeNull();
    await sleep(200);
    expect(waits).toEqual([]);
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
