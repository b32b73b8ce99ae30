// Config as code: read and validate the config file (JSON, or YAML by extension). A bad file
// stops start-up with its name, the field path and the problem.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { fieldErrors } from '../shared/schema/common.ts';
import { type ConfigFile, configFile } from '../shared/schema/config.ts';
import type { ResponseLimits } from '../shared/schema/response.ts';

export class ConfigFileError extends Error {}

export async function loadConfigFile(file: string, limits: ResponseLimits): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigFileError(`Cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new ConfigFileError(`Config file ${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(e as Error).message}`);
  }
  const r = configFile(limits).safeParse(data ?? {});
  if (!r.success) {
    const problems = fieldErrors(r.error, '(the file)').map((f) => `${f.field}: ${f.message}`);
    throw new ConfigFileError(`Invalid config file ${path.basename(file)} (${file}):\n  ${problems.join('\n  ')}`);
  }
  return r.data;
}
