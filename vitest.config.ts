import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll waits for what happens in the background (a forward, a live update): 1 s,
    // vitest's default, failed in a full clean-clone run where a capture's background forward
    // (on its own thread, in a freshly started server) took longer under the suite's load.
    // A generous bound: a wait that never comes true still fails.
    expect: { poll: { timeout: 15_000 } },
    // Browser tests share one Chromium per file; keep files from fighting over 2 cores.
    maxWorkers: 2,
  },
});
