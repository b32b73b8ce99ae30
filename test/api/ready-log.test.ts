// The start-up line says whether the UI will ask for a token (a newcomer starting with
// AUTH_TOKEN set met a sign-in page the log had not mentioned), and never prints the token.
import { describe, expect, it } from 'vitest';
import { withServer } from '../helpers/process.ts';

const readyLine = (output: string) => output.split('\n').find((l) => l.includes('hooklab ready on')) ?? '';

describe('the ready line', () => {
  it('says a token is asked when AUTH_TOKEN is set, without printing it; open otherwise', async () => {
    const token = 'ready-log-token-7f3a9c2e51';
    const withToken = await withServer({ AUTH_TOKEN: token }, async (_base, output) => readyLine(output()));
    expect(withToken).toContain('ask for the token in AUTH_TOKEN');
    expect(withToken).not.toContain(token);
    const open = await withServer({}, async (_base, output) => readyLine(output()));
    expect(open).toContain('open: no token asked (AUTH_TOKEN not set)');
  });
});
