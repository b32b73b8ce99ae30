// A config file's secret from ${NAME} that is set but empty (GitHub Actions gives "" for a
// secret the job cannot see, a fork's pull request say) stops start-up naming the variable and
// the field, as an unset one does. Before, a webhook's "${WH_SECRET}" set to "" read as
// "secret": "" and silently removed the stored signing secret (start-up succeeded).
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Webhook } from '../../shared/api.ts';
import { loadConfigFile } from '../../server/config-file.ts';
import { DEFAULT_RESPONSE_LIMITS } from '../../shared/schema/response.ts';
import { startExpectingFailure, withServer } from '../helpers/process.ts';
import { json, tempDir } from '../helpers/server.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const webhookOf = (env: Record<string, string>): Promise<Webhook> => withServer(env, async (base) => (await json<Webhook>(base, 'GET', '/api/webhooks/wh-ci')).body);

describe('config file: a secret from the environment that is set but empty', () => {
  it("stops start-up naming the variable and the field; the stored webhook keeps its secret", async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const file = path.join(dataDir, 'hooklab.config.json');
    await writeFile(file, JSON.stringify({ webhooks: [{ id: 'wh-ci', url: 'http://127.0.0.1:1/x', secret: '${WH_SECRET}' }] }));
    expect((await webhookOf({ DATA_DIR: dataDir, HOOKLAB_CONFIG: file, WH_SECRET: SECRET })).hasSecret).toBe(true);
    const { code, output } = await startExpectingFailure({ DATA_DIR: dataDir, HOOKLAB_CONFIG: file, WH_SECRET: '' });
    expect(code).toBe(1);
    expect(output).toContain(
      `Invalid config file hooklab.config.json (${file}), nothing was applied:\n  webhooks[0].secret: \${WH_SECRET} is set but empty (CI gives "" for a secret the job cannot see); a secret from the environment may not be empty`,
    );
    // Nothing was applied: started without the file, the webhook still signs.
    expect((await webhookOf({ DATA_DIR: dataDir })).hasSecret).toBe(true);
  });

  it("a bin's signature secret, and a webhook's previous secret, from an empty variable are told the same way (not as a schema error without the variable)", async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const file = path.join(dataDir, 'hooklab.config.yaml');
    await writeFile(file, 'bins:\n  - id: env-bin-0123456789\n    verify:\n      schemes:\n        - type: github\n          secrets: ["${GH_SECRET}"]\n');
    await expect(loadConfigFile(file, DEFAULT_RESPONSE_LIMITS, { GH_SECRET: '' })).rejects.toThrow(
      'bins[0].verify.schemes[0].secrets[0]: ${GH_SECRET} is set but empty (CI gives "" for a secret the job cannot see); a secret from the environment may not be empty',
    );
    // A rotation's old secret is a secret too: taken from the environment, and refused empty.
    const OLD = 'whsec_b2xkLW9sZC1vbGQtb2xkLW9sZC1vbGQtb2xkLW8=';
    await writeFile(file, 'webhooks:\n  - id: wh-ci\n    url: http://127.0.0.1:1/x\n    secret: "${NEW_SECRET}"\n    previousSecret: "${OLD_SECRET}"\n');
    expect((await loadConfigFile(file, DEFAULT_RESPONSE_LIMITS, { NEW_SECRET: SECRET, OLD_SECRET: OLD })).webhooks?.[0]).toMatchObject({ secret: SECRET, previousSecret: OLD });
    await expect(loadConfigFile(file, DEFAULT_RESPONSE_LIMITS, { NEW_SECRET: SECRET, OLD_SECRET: '' })).rejects.toThrow(
      'webhooks[0].previousSecret: ${OLD_SECRET} is set but empty (CI gives "" for a secret the job cannot see); a secret from the environment may not be empty',
    );
    await expect(loadConfigFile(file, DEFAULT_RESPONSE_LIMITS, { NEW_SECRET: SECRET })).rejects.toThrow('webhooks[0].previousSecret: ${OLD_SECRET}');
    // A URL from an empty variable is not a secret: the URL's own check tells it.
    await writeFile(file, 'webhooks:\n  - id: wh-ci\n    url: "${HOOK_URL}"\n');
    await expect(loadConfigFile(file, DEFAULT_RESPONSE_LIMITS, { HOOK_URL: '' })).rejects.toThrow('webhooks[0].url: ');
  });
});
