// A HOST the server cannot listen on stops start-up with one plain line (as a taken port does),
// exit 1, and without the "anyone can read every captured request" warning: nothing was exposed.
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { startExpectingFailure } from '../helpers/process.ts';
import { tempDir } from '../helpers/server.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('a HOST that cannot be listened on', () => {
  it.each([
    ['nope.invalid', 'no such host name (ENOTFOUND)'],
    // TEST-NET-1 (RFC 5737): an address no machine here has.
    ['192.0.2.1', 'not an address of this machine (EADDRNOTAVAIL)'],
  ])('HOST=%s: one line naming HOST and what to set it to, no security warning', async (host, why) => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const { code, output } = await startExpectingFailure({ DATA_DIR: dataDir, HOST: host });
    expect(code).toBe(1);
    const lines = output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ ERROR /);
    expect(lines[0]).toContain(`cannot listen on HOST ${host}: ${why}. Set HOST to an address of this machine: 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).`);
    expect(output).not.toContain('anyone who can reach');
    expect(output).not.toContain('    at ');
  });
});
