// An empty YAML config file (or one cut short, or templated into nothing: it parses to null)
// stops start-up naming the file, as an empty JSON file does. Before, it was applied as a file
// that declares nothing (exit 0, nothing applied) and the mistake passed unnoticed.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../server/config-file.ts';
import { DEFAULT_RESPONSE_LIMITS } from '../../shared/schema/response.ts';
import { startExpectingFailure } from '../helpers/process.ts';
import { tempDir } from '../helpers/server.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('config file: empty', () => {
  it('an empty YAML file stops start-up in one line naming the file, as an empty JSON file does', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const yaml = path.join(dataDir, 'hooklab.config.yaml');
    await writeFile(yaml, '');
    const { code, output } = await startExpectingFailure({ DATA_DIR: dataDir, HOOKLAB_CONFIG: yaml });
    expect(code).toBe(1);
    expect(output).toContain(`Config file ${yaml} is empty (no YAML document, or only null): write {} for a file that declares nothing; nothing was applied\n`);
    const json = path.join(dataDir, 'hooklab.config.json');
    await writeFile(json, '');
    expect((await startExpectingFailure({ DATA_DIR: dataDir, HOOKLAB_CONFIG: json })).output).toMatch(/Config file .*hooklab\.config\.json is not valid JSON/);
  });

  it('a YAML file that is only comments, or null, and a JSON null, are refused too; {} declares nothing', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const yaml = path.join(dataDir, 'c.yml');
    for (const text of ['# bins: filled in by the template\n', '---\n', '~\n', 'null\n']) {
      await writeFile(yaml, text);
      await expect(loadConfigFile(yaml, DEFAULT_RESPONSE_LIMITS), JSON.stringify(text)).rejects.toThrow(`Config file ${yaml} is empty (no YAML document, or only null)`);
    }
    const json = path.join(dataDir, 'c.json');
    await writeFile(json, 'null');
    await expect(loadConfigFile(json, DEFAULT_RESPONSE_LIMITS)).rejects.toThrow(`Config file ${json} is empty (null)`);
    await writeFile(yaml, '{}\n');
    expect(await loadConfigFile(yaml, DEFAULT_RESPONSE_LIMITS)).toEqual({});
  });
});
