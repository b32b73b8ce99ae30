// ${NAME} in a config file's strings, taken from the environment, so that secrets (webhook and
// signing secrets) can stay out of the file, as CI systems keep them. Only in the fields the
// caller names (secrets and URLs): a response body that holds "${HOME}" is a body, and must
// never be served with an environment value in it. Only the braced form: a bare $ is left
// alone; $${ writes a literal ${. A name that is not set is an error naming where it is used,
// never its value; so is one set but empty where the caller says a value is needed (a secret:
// CI systems expand a secret the job cannot see to "", which would read as "no secret").

const REF = /\$(\$?)\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where a value is, key by key (array items by number): ['webhooks', 0, 'secret']. */
export type EnvRefPath = readonly (string | number)[];

export interface EnvRefProblem {
  /** Where in the document: webhooks[0].secret */
  path: string;
  message: string;
}

/** A copy of `data` with every ${NAME} in its strings replaced from `env`; the problems found (none: all resolved). */
export function expandEnvRefs(
  data: unknown,
  env: Record<string, string | undefined>,
  expands: (at: EnvRefPath) => boolean,
  needsValue: (at: EnvRefPath) => boolean = () => false,
): { value: unknown; problems: EnvRefProblem[] } {
  const problems: EnvRefProblem[] = [];
  // The path goes to the callbacks as keys, not as text: a key of the user's own (a response
  // header named "url", say, or one with dots in it) can then never pass for a field's path.
  const walk = (v: unknown, keys: (string | number)[], at: string): unknown => {
    if (typeof v === 'string') {
      if (!v.includes('${') || !expands(keys)) return v;
      return v.replace(REF, (whole, escaped: string, name: string) => {
        if (escaped) return whole.slice(1); // $${X} → ${X}
        if (!NAME.test(name)) {
          problems.push({ path: at, message: 'holds ${…} that is not a variable name (letters, digits and _, not starting with a digit; write $${ for a literal ${)' });
          return whole;
        }
        const value = env[name];
        if (value === undefined) {
          problems.push({ path: at, message: `\${${name}} is not set in the environment` });
          return whole;
        }
        if (value === '' && needsValue(keys)) {
          problems.push({ path: at, message: `\${${name}} is set but empty (CI gives "" for a secret the job cannot see); a secret from the environment may not be empty` });
          return whole;
        }
        return value;
      });
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...keys, i], `${at}[${i}]`));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...keys, k], at ? `${at}.${k}` : k)]));
    return v;
  };
  return { value: walk(data, [], ''), problems };
}
