// What --server/HOOKLAB_SERVER may be: hooklab's base URL. A password in it was printed in
// "cannot reach hooklab at …"; a receiver URL or API route given as the server said "not found:
// No bin at this URL…" / "not found: no such API route", as if the bin were missing. Real
// server with AUTH_TOKEN, the CLI as a process.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/server.ts';

const TOKEN = 'right-token-5f2c9a';
let srv: ServerProcess;
let dir: string;

beforeAll(async () => {
  dir = await tempDir();
  srv = await spawnServer({ DATA_DIR: path.join(dir, 'data'), AUTH_TOKEN: TOKEN });
});

afterAll(async () => {
  srv.proc.kill('SIGTERM');
  await srv.exited;
  await rm(dir, { recursive: true, force: true });
});

// HOOKLAB_TOKEN emptied: the test's own environment must not lend one.
const run = async (args: string[], env: Record<string, string> = {}) => {
  const { code, stdout, stderr } = await runCli(srv.base, args, { HOOKLAB_TOKEN: '', ...env });
  return { code, stdout, stderr };
};

async function newBin(): Promise<string> {
  const res = await fetch(`${srv.base}/api/bins`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: '{}' });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe('the server URL', () => {
  it('with a user name and password: refused in one line, exit 2, without them (the token is the way in)', async () => {
    const u = new URL(srv.base);
    const withPw = `http://user:pw-SECRET@${u.host}`;
    const env = await run(['bin', 'list'], { HOOKLAB_SERVER: withPw, HOOKLAB_TOKEN: TOKEN });
    expect(env).toEqual({
      code: 2,
      stdout: '',
      stderr: `hooklab: HOOKLAB_SERVER must not hold a user name or password (http://…@${u.host}/): hooklab takes an access token, pass it with --token or HOOKLAB_TOKEN\n`,
    });
    const flag = await run(['bin', 'list', '--server', withPw]);
    expect({ code: flag.code, stderr: flag.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/^hooklab: --server must not hold a user name or password \(http:\/\/…@[^)]+\): .*--token.*\n$/) });
    const receiver = await run(['wait', `http://user:pw-SECRET@${u.host}/h/abcd`, '--timeout', '1s'], { HOOKLAB_SERVER: '' });
    expect({ code: receiver.code, stderr: receiver.stderr }).toEqual({
      code: 2,
      stderr: `hooklab: the receiver URL must not hold a user name or password (http://…@${u.host}/h/abcd): pass the access token with --token or HOOKLAB_TOKEN\n`,
    });
    const notHttp = await run(['bin', 'list'], { HOOKLAB_SERVER: 'ftp://user:pw-SECRET@example.com' });
    expect({ code: notHttp.code, stderr: notHttp.stderr }).toEqual({ code: 2, stderr: 'hooklab: HOOKLAB_SERVER must be an http(s) URL, got "ftp://…@example.com"\n' });
  }, 60_000);

  it("a receiver URL or an API route given as the server: said as not hooklab's base URL, exit 2", async () => {
    const bin = await newBin();
    const cases: [string[], Record<string, string>, string][] = [
      [['bin', 'list', '--server', `${srv.base}/h/abcd`], {}, `--server should be hooklab's base URL (here ${srv.base}), not a receiver URL: ${srv.base}/h/abcd`],
      [['bin', 'list'], { HOOKLAB_SERVER: `${srv.base}/api/health` }, `HOOKLAB_SERVER should be hooklab's base URL (here ${srv.base}), not an API route: ${srv.base}/api/health`],
      [['wait', bin, '--timeout', '1s'], { HOOKLAB_SERVER: `${srv.base}/api/` }, `HOOKLAB_SERVER should be hooklab's base URL (here ${srv.base}), not an API route: ${srv.base}/api/`],
      [['tail', bin, '--server', `${srv.base}/prefix/h/${bin}/sub`], {}, `--server should be hooklab's base URL (here ${srv.base}/prefix), not a receiver URL: ${srv.base}/prefix/h/${bin}/sub`],
    ];
    for (const [args, env, message] of cases) {
      const r = await run(args, { HOOKLAB_TOKEN: TOKEN, ...env });
      expect({ args, ...r }).toEqual({ args, code: 2, stdout: '', stderr: `hooklab: ${message}\n` });
    }
    // The base URL itself, with a trailing slash too, is fine.
    expect((await run(['bin', 'list', '--server', `${srv.base}/`], { HOOKLAB_TOKEN: TOKEN })).code).toBe(0);
  }, 60_000);
});
