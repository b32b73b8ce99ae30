// Wait until a check holds (polled), failing loudly with what was awaited when it never does.
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 15_000, everyMs = 25): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
