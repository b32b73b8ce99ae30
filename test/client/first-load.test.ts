import { describe, expect, it } from 'vitest';
import { firstLoader } from '../../client/src/lib/first-load.ts';
import { deferred } from '../helpers/deferred.ts';

const tick = () => new Promise((r) => setTimeout(r, 0));

/** A loader whose loads the test settles by hand (`calls`), and what it was told (`seen`). */
function manualLoader() {
  const calls: ReturnType<typeof deferred<string>>[] = [];
  const seen: string[] = [];
  const trigger = firstLoader(
    () => {
      const d = deferred<string>();
      calls.push(d);
      return d.promise;
    },
    (v) => seen.push(v),
    (err) => seen.push(`error: ${(err as Error).message}`),
  );
  return { calls, seen, trigger };
}

describe('a settings form\'s first load', () => {
  it('is not started again while one is in flight (the socket connecting during the page load), nor after it succeeded', async () => {
    const { calls, seen: loaded, trigger } = manualLoader();
    trigger();
    trigger(); // "reachable" while the first is still loading
    expect(calls).toHaveLength(1);
    calls[0].resolve('saved');
    await tick();
    trigger(); // a later reconnect: the form is already shown, and may hold edits
    expect(calls).toHaveLength(1);
    expect(loaded).toEqual(['saved']);
  });

  it('is tried again once the server is back after a failed one', async () => {
    let n = 0;
    const seen: string[] = [];
    const trigger = firstLoader(
      () => (++n === 1 ? Promise.reject(new Error('offline')) : Promise.resolve(`load ${n}`)),
      (v) => seen.push(v),
      (err) => seen.push((err as Error).message),
    );
    trigger();
    await tick();
    trigger();
    await tick();
    trigger();
    await tick();
    expect(seen).toEqual(['offline', 'load 2']);
    expect(n).toBe(2);
  });

  it('asked for while one was loading that then fails (the server came back meanwhile): loaded again at once', async () => {
    const { calls, seen, trigger } = manualLoader();
    trigger();
    trigger(); // the socket connected while the first read was on its way
    calls[0].reject(new Error('network'));
    await tick();
    expect(calls).toHaveLength(2);
    calls[1].resolve('saved');
    await tick();
    expect(seen).toEqual(['error: network', 'saved']);
  });
});
