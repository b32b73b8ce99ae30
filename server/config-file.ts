// Config as code: read and validate the config file (JSON, or YAML by extension). A bad file
// stops start-up with its name, the field path and the problem. A file that does not parse is
// told by line, column and the kind of error only: the parsers' messages quote the source
// around it, and the file holds secrets (webhook and signing secrets, bin ids). Its strings may
// take ${NAME} from the environment (lib/env-refs.ts), to keep secrets out of it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type EnvRefPath, expandEnvRefs } from './lib/env-refs.ts';
import { findDuplicateKey } from './lib/json-duplicate-key.ts';
import { jsonProblem } from './lib/json-problem.ts';
import { yamlProblem } from './lib/yaml-problem.ts';
import { fieldErrors, fieldPath } from '../shared/schema/common.ts';
import { type ConfigFile, configFile } from '../shared/schema/config.ts';
import type { ResponseLimits } from '../shared/schema/response.ts';

export class ConfigFileError extends Error {}

/** Any array index, in the paths below. */
const I = Symbol('index');
type FieldPath = readonly (string | typeof I)[];
/**
 * The secrets, by their exact place in the schema: a ${NAME} set but empty there is refused, not
 * read as "no secret". Exact places, not names: a response header or a header match the user
 * named "secret" or "url" is not one of these, and what the receiver serves must never hold an
 * environment value.
 */
const SECRET_FIELDS: FieldPath[] = [
  ['webhooks', I, 'secret'],
  ['webhooks', I, 'previousSecret'],
  ['bins', I, 'verify', 'schemes', I, 'secrets', I],
];
/** The fields that take ${NAME} from the environment: those secrets, and the URLs. */
const ENV_FIELDS: FieldPath[] = [...SECRET_FIELDS, ['webhooks', I, 'url'], ['bins', I, 'forward', 'targets', I, 'url']];

const isAt = (fields: FieldPath[]) => (at: EnvRefPath) =>
  fields.some((f) => f.length === at.length && f.every((k, i) => (k === I ? typeof at[i] === 'number' : k === at[i])));

export async function loadConfigFile(file: string, limits: ResponseLimits, env: Record<string, string | undefined> = process.env): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigFileError(`Cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const yaml = /\.ya?ml$/i.test(file);
  // The YAML parser is loaded only for a YAML file (it adds ~25-40 ms to every start here).
  const Yaml = yaml ? await import('yaml') : null;
  let data: unknown;
  try {
    // logLevel 'error': its warnings (printed by default) quote the source too.
    data = Yaml ? Yaml.parse(text, { logLevel: 'error' }) : JSON.parse(text);
  } catch (e) {
    const where = Yaml ? yamlProblem(e, Yaml.YAMLParseError) : jsonProblem(text);
    throw new ConfigFileError(`Config file ${file} is not valid ${yaml ? 'YAML' : 'JSON'}: ${where} (the text is not shown: it may hold secrets)`);
  }
  // An empty YAML file (or one cut short, or templated into nothing) parses to null, as JSON's
  // `null` does: refused as an empty JSON file is, not applied as a file that declares nothing.
  if (data === null || data === undefined) {
    throw new ConfigFileError(`Config file ${file} is empty (${yaml ? 'no YAML document, or only null' : 'null'}): write {} for a file that declares nothing; nothing was applied`);
  }
  // JSON keeps the last of a key given twice without a word; YAML's parser refuses it: so here.
  const twice = yaml ? null : findDuplicateKey(text);
  if (twice) {
    throw new ConfigFileError(`Config file ${file} gives a key twice: ${fieldPath(twice.path)} at line ${twice.line}, column ${twice.column} (JSON would keep the last one without a word); nothing was applied`);
  }
  // ${NAME} from the environment (secrets kept out of the file); a name not set is told by where.
  const expanded = expandEnvRefs(data, env, isAt(ENV_FIELDS), isAt(SECRET_FIELDS));
  if (expanded.problems.length) {
    throw new ConfigFileError(`Invalid config file ${path.basename(file)} (${file}), nothing was applied:\n  ${expanded.problems.map((p) => `${p.path || '(the file)'}: ${p.message}`).join('\n  ')}`);
  }
  const r = configFile(limits).safeParse(expanded.value);
  if (!r.success) {
    const problems = fieldErrors(r.error, '(the file)').map((f) => `${f.field}: ${f.message}`);
    throw new ConfigFileError(`Invalid config file ${path.basename(file)} (${file}), nothing was applied:\n  ${problems.join('\n  ')}`);
  }
  return r.data;
}
