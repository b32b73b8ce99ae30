// ${NAME} is taken from the environment in the schema's own secret and URL fields only: never
// in a map whose keys the user names (response headers), whatever a key is called, since the
// receiver serves those to anyone who calls it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../server/config-file.ts';
import { DEFAULT_RESPONSE_LIMITS } from '../../shared/schema/response.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hooklab-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const env = { HOME: '/home/someone', DEMO_SECRET: 's3cr3t', GH_SECRET: 'gh-from-env', TARGET_PORT: '4567', WEBHOOK_SECRET: SECRET };

async function load(config: unknown) {
  const file = path.join(dir, 'c.json');
  await writeFile(file, JSON.stringify(config));
  return loadConfigFile(file, DEFAULT_RESPONSE_LIMITS, env);
}

describe('${NAME} in a config file', () => {
  it('is kept as written in response headers, even ones named "url" or "secret"', async () => {
    const headers = { url: '${HOME}', secret: '${DEMO_SECRET}', previousSecret: '${HOME}', 'x-other': '${HOME}', 'x-not-set': '${NOT_SET_ANYWHERE}' };
    const c = await load({
      bins: [
        {
          id: 'hdr-hdr-hdr-hdr-hdr1',
          response: {
            default: { status: 200, body: 'body ${HOME}', headers },
            rules: [{ match: { header: { name: 'url', value: '${HOME}' } }, status: 201, headers }],
            // One not set is no problem there either (it stopped start-up).
            plan: [{ status: 202, headers: { url: '${NOT_SET_ANYWHERE}' } }],
          },
        },
      ],
    });
    const r = c.bins![0].response!;
    expect(r.default).toMatchObject({ body: 'body ${HOME}', headers });
    expect(r.rules![0]).toMatchObject({ match: { header: { value: '${HOME}' } }, headers });
    expect(r.plan![0]).toMatchObject({ headers: { url: '${NOT_SET_ANYWHERE}' } });
  });

  it('is still taken in every secret and URL field of the schema', async () => {
    const c = await load({
      bins: [
        {
          id: 'env-env-env-env-env1',
          forward: { targets: [{ url: 'http://127.0.0.1:${TARGET_PORT}/in' }] },
          verify: { schemes: [{ type: 'github', secrets: ['${GH_SECRET}'] }] },
        },
      ],
      webhooks: [{ id: 'wh-env', url: 'http://127.0.0.1:${TARGET_PORT}/hook', secret: '${WEBHOOK_SECRET}', previousSecret: '${WEBHOOK_SECRET}' }],
    });
    expect(c.bins![0].forward!.targets[0].url).toBe('http://127.0.0.1:4567/in');
    expect(c.bins![0].verify!.schemes[0].secrets).toEqual(['gh-from-env']);
    expect(c.webhooks![0]).toMatchObject({ url: 'http://127.0.0.1:4567/hook', secret: SECRET, previousSecret: SECRET });
  });
});
