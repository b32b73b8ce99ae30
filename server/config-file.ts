// Config as code: read and validate the config file (JSON, or YAML by extension). A bad file
// stops start-up with its name, the field path and the problem.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
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
  const yaml = /\.ya?ml$/i.test(file);
  // The YAML parser is loaded only for a YAML file (it adds ~25-40 ms to every start here).
  const parseYaml = yaml ? (await import('yaml')).parse : null;
  let data: unknown;
  try {
    data = parseYaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new ConfigFileError(`Config file ${file} is not valid ${yaml ? 'YAML' : 'JSON'}: ${(e as Error).message}`);
  }
  const r = configFile(limits).safeParse(data ?? {});
  if (!r.success) {
    const problems = fieldErrors(r.error, '(the file)').map((f) => `${f.field}: ${f.message}`);
    throw new ConfigFileError(`Invalid config file ${path.basename(file)} (${file}):\n  ${problems.join('\n  ')}`);
  }
  return r.data;
}
