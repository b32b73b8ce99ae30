// What hooklab logs and shows in /api/health names no bin id (its receiver URL's secret) and
// quotes no secret: a storage fault names the file as DATA_DIR/bins/<bin>/…, a bin directory
// removed by hand is a count, a short bin id from the config file is named by its place in
// the file, and a config file that does not parse is told by line and column only. Real
// server processes, real files.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnedServers } from '../helpers/spawned.ts';
import { send } from '../helpers/http.ts';
import { startExpectingFailure } from '../helpers/process.ts';
import { createBin, json } from '../helpers/server.ts';
import { untilNoFilesOpenUnder } from '../helpers/open-files.ts';

const servers = spawnedServers();
const { start } = servers;
const dataDir = () => servers.dataDir('hooklab-log-secrets-');

const healthText = async (base: string) => {
  const r = await fetch(`${base}/api/health`);
  return { status: r.status, text: await r.text() };
};

describe('logs and health name no bin id and quote no secret', () => {
  it("a storage fault names the bin's file with <bin>; a bin directory removed by hand is told without its id", async () => {
    const d = await dataDir();
    const p = await start({ DATA_DIR: d, FLUSH_INTERVAL_MS: '50' });
    const bin = await createBin(p.base);
    const url = bin.url.replace(/^http:\/\/[^/]+/, p.base);
    const first = (await send(url, { body: 'first' })).headers['x-hooklab-request-id'] as string;
    // Written, and its files closed again (the store closes them once idle).
    await expect.poll(async () => (await json(p.base, 'GET', `/api/bins/${bin.id}/requests/${first}`)).status).toBe(200);
    await untilNoFilesOpenUnder(p.proc.pid!, path.join(d, 'bins', bin.id), 'first');
    // A file where the bin's directory was: every write into it fails (ENOTDIR), a fault.
    const binDir = path.join(d, 'bins', bin.id);
    await rm(binDir, { recursive: true });
    await writeFile(binDir, 'in the way');
    await send(url, { body: 'kept in memory' });
    await expect.poll(async () => (await healthText(p.base)).status).toBe(503);
    const faulted = await healthText(p.base);
    expect(faulted.text).toMatch(/"code":"missing_directory"/);
    expect(faulted.text).not.toContain(bin.id);
    await expect.poll(() => p.output()).toMatch(/ERROR storage fault: .*"error":".*ENOTDIR/);
    const faultLine = p.output().split('\n').find((l) => l.includes('ERROR storage fault'))!;
    expect(faultLine).toContain(`${path.join(d, 'bins', '<bin>', '00000000.')}`);
    expect(faultLine).not.toContain(bin.id);

    // The file goes: the directory is found missing (what was in it is lost), made again, and
    // what was kept in memory is written.
    await rm(binDir);
    await expect.poll(async () => (await healthText(p.base)).status, { timeout: 15_000 }).toBe(200);
    await expect.poll(() => p.output()).toMatch(/WARN A bin's data directory was removed outside hooklab: 1 stored request\(s\) were lost/);
    const ok = await healthText(p.base);
    expect(ok.text).toMatch(/removed outside hooklab: 1 stored request/);
    expect(ok.text).not.toContain(bin.id);
    expect(p.output()).not.toContain(bin.id);
  });

  it('a short bin id from the config file is named by its place in the file, not by the id', async () => {
    const d = await dataDir();
    const file = path.join(d, 'hooklab.config.json');
    await writeFile(file, JSON.stringify({ bins: [{ id: 'orders-staging-7f3k2q9w-long' }, { id: 'ci-bin-short1', name: 'CI' }, { id: 'tiny' }] }));
    const p = await start({ DATA_DIR: d, HOOKLAB_CONFIG: file });
    expect((await json(p.base, 'GET', '/api/bins/ci-bin-short1')).status).toBe(200);
    expect(p.output()).toContain('WARN the id of bins[1] ("CI") is short: anyone who guesses it can send to its URL');
    expect(p.output()).toContain('WARN the id of bins[2] is short');
    expect(p.output()).not.toContain('ci-bin-short1');
    expect(p.output()).not.toContain('tiny');
  });

  it('a config file that does not parse is told by line, column and kind, quoting none of it', async () => {
    const d = await dataDir();
    const yaml = path.join(d, 'hooklab.config.yaml');
    await writeFile(yaml, 'bins:\n  - id: orders-staging-7f3k2q9w\n    secret: whsec_TOPSECRETyaml: oops: bad\n');
    const y = await startExpectingFailure({ DATA_DIR: d, HOOKLAB_CONFIG: yaml });
    expect(y.code).toBe(1);
    expect(y.output).toContain(`Config file ${yaml} is not valid YAML: line 3, column 13: a list or map where a key should be (a missing ":" or bad indentation?)`);
    expect(y.output).not.toContain('TOPSECRET');
    expect(y.output).not.toContain('orders-staging');

    const jsonFile = path.join(d, 'hooklab.config.json');
    await writeFile(jsonFile, '{"webhooks": [{"id": "w", "secret": whsec_TOPSECRETjson}]}');
    const j = await startExpectingFailure({ DATA_DIR: d, HOOKLAB_CONFIG: jsonFile });
    expect(j.code).toBe(1);
    expect(j.output).toContain(`Config file ${jsonFile} is not valid JSON: line 1, column 37: unexpected character`);
    expect(j.output).not.toContain('TOPSECRET');

    // Two bins with one id: told by position, not by the id.
    await writeFile(jsonFile, JSON.stringify({ bins: [{ id: 'dup-bin-0123456789abc' }, { id: 'dup-bin-0123456789abc' }] }));
    const dup = await startExpectingFailure({ DATA_DIR: d, HOOKLAB_CONFIG: jsonFile });
    expect(dup.output).toContain('bins[1].id: is used twice (entry 0 has it too)');
    expect(dup.output).not.toContain('dup-bin-0123456789abc');
  });

  it('a corrupt data file stops start-up naming the file (<bin> for a bin) and where, quoting none of it', async () => {
    const d = await dataDir();
    const p = await start({ DATA_DIR: d, FLUSH_INTERVAL_MS: '50' });
    const bin = await createBin(p.base);
    const id = (await send(bin.url.replace(/^http:\/\/[^/]+/, p.base), { body: 'x', headers: { authorization: 'Bearer sk_live_TOPSECRET' } })).headers['x-hooklab-request-id'] as string;
    await expect.poll(async () => (await json(p.base, 'GET', `/api/bins/${bin.id}/requests/${id}`)).status).toBe(200);
    p.proc.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    // A whole line that is not JSON around a header's value (JSON.parse's message would quote it).
    const log = path.join(d, 'bins', bin.id, '00000000.log');
    const lines = (await readFile(log, 'utf8')).split('\n');
    expect(lines[1]).toContain('"Bearer sk_live_TOPSECRET"');
    lines[1] = lines[1].replace('"Bearer sk_live_TOPSECRET"', 'Bearer sk_live_TOPSECRET');
    await writeFile(log, lines.join('\n'));
    const r = await startExpectingFailure({ DATA_DIR: d });
    expect(r.code).toBe(1);
    expect(r.output).toContain(`Cannot read data file ${path.join(d, 'bins', '<bin>', '00000000.log')}: line 2 is not valid JSON (column `);
    expect(r.output).not.toContain('TOPSECRET');
    expect(r.output).not.toContain(bin.id);
  });
});
