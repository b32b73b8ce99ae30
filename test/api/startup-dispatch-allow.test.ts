// A DISPATCH_ALLOW entry hooklab cannot use stops start-up with one line naming DISPATCH_ALLOW,
// the entry and what it takes, exit 1. A bad prefix length crashed start-up with a RangeError
// stack; a host:port or a URL was taken as a host name and silently never matched.
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { startExpectingFailure } from '../helpers/process.ts';
import { tempDir } from '../helpers/server.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const TAKES = 'DISPATCH_ALLOW takes comma-separated host names (example.com, *.example.com), IP addresses (10.0.0.5, fd00::1) or CIDRs (10.0.0.0/8, fd00::/8); no scheme, port or path';

describe('a DISPATCH_ALLOW entry that is not a host, IP or CIDR', () => {
  it.each([
    ['10.0.0.0/33', 'is not valid: the prefix length of an IPv4 CIDR is a number from 0 to 32'],
    ['10.0.0.0/abc', 'is not valid: the prefix length of an IPv4 CIDR is a number from 0 to 32'],
    ['example.com:443', 'is a host with a port (give the host alone)'],
    ['http://example.com', 'is a URL (give its host alone)'],
  ])('DISPATCH_ALLOW=a.example.com,%s: one line naming it, no stack', async (bad, why) => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const { code, output } = await startExpectingFailure({ DATA_DIR: dataDir, DISPATCH_ALLOW: `a.example.com, ${bad}` });
    expect(code).toBe(1);
    const lines = output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ ERROR /);
    expect(lines[0]).toContain(`DISPATCH_ALLOW entry "${bad}" ${why}. ${TAKES}`);
    expect(output).not.toContain('    at ');
  });
});
