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

  it('the variables fractional on purpose take plain decimals; the rest decimal digits', () => {
    expect(loadConfig({ RETRY_FACTOR: '2.5', RETRY_JITTER: '.1' }).schedule).toMatchObject({ factor: 2.5, jitter: 0.1 });
    expect(loadConfig({ PORT: '0080', MAX_DELAY_MS: '1000' })).toMatchObject({ port: 80, maxDelayMs: 1000 });
  });

  it('reads values and trims PUBLIC_URL', () => {
    const c = loadConfig({ PORT: '9000', PUBLIC_URL: 'https://h.example.com/', DISPATCH_ALLOW: 'a.com, 10.0.0.0/8', TRUST_PROXY: 'true' }, '/');
    expect(c.publicUrl).toBe('https://h.example.com');
    expect(c.dispatchAllow).toEqual(['a.com', '10.0.0.0/8']);
    expect(c.trustProxy).toBe(true);
    expect(c.publicUrlDefaulted).toBe(false);
  });

  it('takes every DISPATCH_ALLOW form the README documents', () => {
    const allow = 'example.com, *.example.com, my_service, 10.0.0.5, 10.0.0.0/8, fd00::1, fd00::/8, 0.0.0.0/0';
    expect(loadConfig({ DISPATCH_ALLOW: allow }).dispatchAllow).toHaveLength(8);
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
    // Decimal digits only: Number() took these (' ' as 0: a random port; hex; exponents; blanks).
    [{ PORT: ' ' }, /PORT must be an integer from 0 to 65535, got " "/],
    [{ PORT: '0x4657' }, /PORT must be an integer from 0 to 65535, got "0x4657"/],
    [{ PORT: ' 8080' }, /PORT must be an integer/],
    [{ HANG_TIMEOUT_MS: '0x10' }, /HANG_TIMEOUT_MS must be an integer/],
    [{ MAX_DELAY_MS: '1e3' }, /MAX_DELAY_MS must be an integer/],
    [{ MAX_BODY_BYTES: '+5' }, /MAX_BODY_BYTES must be an integer/],
    [{ RETRY_FACTOR: '0x2' }, /RETRY_FACTOR must be a number from 1 to 100, got "0x2"/],
    [{ BIN_IDLE_DAYS: '1e1' }, /BIN_IDLE_DAYS must be a number/],
    [{ RETRY_JITTER: ' ' }, /RETRY_JITTER must be a number/],
    // A bad prefix length crashed start-up (RangeError); a host:port or URL never matched.
    [{ DISPATCH_ALLOW: 'a.com,10.0.0.0/33' }, /^DISPATCH_ALLOW entry "10\.0\.0\.0\/33" is not valid: the prefix length of an IPv4 CIDR is a number from 0 to 32\. DISPATCH_ALLOW takes /],
    [{ DISPATCH_ALLOW: 'fd00::/abc' }, /DISPATCH_ALLOW entry "fd00::\/abc" is not valid: the prefix length of an IPv6 CIDR is a number from 0 to 128/],
    [{ DISPATCH_ALLOW: 'example.com:443' }, /DISPATCH_ALLOW entry "example.com:443" is a host with a port/],
    [{ DISPATCH_ALLOW: 'https://example.com' }, /DISPATCH_ALLOW entry "https:\/\/example.com" is a URL/],
    [{ DISPATCH_ALLOW: 'example.com/hooks' }, /DISPATCH_ALLOW entry "example.com\/hooks" is not valid: only an IP address takes a \/prefix length/],
    [{ DISPATCH_ALLOW: '[::1]' }, /DISPATCH_ALLOW entry "\[::1\]" is not valid: an IPv6 address is written without brackets/],
    [{ DISPATCH_ALLOW: '10.0.0' }, /DISPATCH_ALLOW entry "10.0.0" is not a host name, IP address or CIDR/],
  ])('rejects %j with a clear message', (env, msg) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(msg);
  });

  it('MAX_SCHEDULE_ATTEMPTS (200): RETRY_* settings planning more attempts per delivery stop start-up, naming what to change', () => {
    expect(loadConfig({}).maxScheduleAttempts).toBe(200);
    const minutely = { RETRY_FIRST_DELAY_MS: '60000', RETRY_FACTOR: '1', RETRY_JITTER: '0' };
    expect(() => loadConfig(minutely)).toThrow(ConfigError);
    // They were cut at 200 without a word: 199 a minute apart, then one 20.7 h later.
    expect(() => loadConfig(minutely)).toThrow(
      'The retry schedule (RETRY_FIRST_DELAY_MS, RETRY_FACTOR, RETRY_JITTER, RETRY_DEADLINE_MS) plans 1441 attempts per delivery; at most 200 (MAX_SCHEDULE_ATTEMPTS): raise RETRY_FIRST_DELAY_MS or RETRY_FACTOR, or shorten RETRY_DEADLINE_MS (or raise MAX_SCHEDULE_ATTEMPTS)',
    );
    expect(loadConfig({ ...minutely, MAX_SCHEDULE_ATTEMPTS: '1441' }).maxScheduleAttempts).toBe(1441);
    expect(() => loadConfig({ MAX_SCHEDULE_ATTEMPTS: '1' })).toThrow('MAX_SCHEDULE_ATTEMPTS must be an integer from 2 to 10000, got "1"');
    // The default schedule: 9 attempts, even with every wait jittered to its shortest.
    expect(() => loadConfig({ MAX_SCHEDULE_ATTEMPTS: '8' })).toThrow('can plan up to 9 attempts per delivery (every wait jittered to its shortest); at most 8');
    expect(loadConfig({ MAX_SCHEDULE_ATTEMPTS: '9' }).maxScheduleAttempts).toBe(9);
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
