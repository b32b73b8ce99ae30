export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Reject if `p` does not settle within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: no result within ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]);
}

/** Poll until ok() holds or the bound passes; answers whether it held. */
export async function waitFor(ok: () => boolean | Promise<boolean>, boundMs: number, everyMs = 20): Promise<boolean> {
  const end = performance.now() + boundMs;
  for (;;) {
    if (await ok()) return true;
    if (performance.now() > end) return false;
    await sleep(everyMs);
  }
}
