// Configuration: validated from the environment, and every variable documented in the README.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOCS, ConfigError, loadConfig } from '../../server/config.ts';

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({}, '/srv');
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', dataDir: '/srv/data', publicUrl: 'http://localhost:8080', maxRequestsPerBin: 500, flushIntervalMs: 200, authToken: null, dispatchAllow: null, trustProxy: false });
    expect(c.schedule).toEqual({ firstDelayMs: 5000, factor: 4, jitter: 0.2, deadlineMs: 86_400_000 });
  });

  it('BIN_IDLE_DAYS: off by default, days (decimals too) as ms', () => {
    expect(loadConfig({}).binIdleMs).toBe(0);
    expect(loadConfig({ BIN_IDLE_DAYS: '7' }).binIdleMs).toBe(7 * 86_400_000);
    expect(loadConfig({ BIN_IDLE_DAYS: '0.5' }).binIdleMs).toBe(43_200_000);
  });

  it('reads values and trims PUBLIC_URL', () => {
    const c = loadConfig({ PORT: '9000', PUBLIC_URL: 'https://h.example.com/', DISPATCH_ALLOW: 'a.com, 10.0.0.0/8', TRUST_PROXY: 'true' }, '/');
    expect(c.publicUrl).toBe('https://h.example.com');
    expect(c.dispatchAllow).toEqual(['a.com', '10.0.0.0/8']);
    expect(c.trustProxy).toBe(true);
    expect(c.publicUrlDefaulted).toBe(false);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT must be an integer/],
    [{ PORT: '70000' }, /PORT must be an integer from 0 to 65535/],
    [{ MAX_REQUESTS_PER_BIN: '0' }, /MAX_REQUESTS_PER_BIN/],
    [{ RETRY_JITTER: '1.5' }, /RETRY_JITTER must be a number from 0 to 0.99/],
    [{ PUBLIC_URL: 'ftp://x' }, /PUBLIC_URL must be an absolute http\(s\) URL/],
    [{ TRUST_PROXY: 'maybe' }, /TRUST_PROXY must be true or false/],
    [{ BIN_IDLE_DAYS: '-1' }, /BIN_IDLE_DAYS must be a number from 0/],
    [{ BIN_IDLE_DAYS: 'week' }, /BIN_IDLE_DAYS must be a number/],
  ])('rejects %j with a clear message', (env, msg) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(msg);
  });

  it('every variable is in the README table with its default', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    for (const d of CONFIG_DOCS) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${d.name}\` |`));
      expect(row, d.name).toBeTruthy();
      expect(row, d.name).toContain(d.default.replace(/[()]/g, '').split(' ')[0].replace('$PORT', ''));
    }
  });
});
