// Issue 3: the wire format is validated strictly, naming the bad field.
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, parseResponseConfig } from '../../server/control/validate.ts';
import { HttpError } from '../../server/http/errors.ts';

const parse = (x: unknown) => parseResponseConfig(x, DEFAULT_LIMITS, () => 99);
function fieldOf(x: unknown): string | undefined {
  try {
    parse(x);
  } catch (e) {
    expect(e).toBeInstanceOf(HttpError);
    return (e as HttpError).field;
  }
  return undefined;
}

describe('response settings validation', () => {
  it('accepts the issue\'s example as-is and fills defaults', () => {
    const c = parse({
      default: { status: 200, headers: { 'x-a': 'b' }, body: 'ok', delayMs: 0 },
      plan: [
        { status: 500, times: 2 },
        { status: 503, headers: { 'retry-after': '120' } },
        { status: 503, probability: 0.3 },
        { fault: 'timeout' },
        { fault: 'reset' },
        { status: 200, delayMs: 8000, match: { method: 'POST', pathPrefix: '/hooks' } },
      ],
      afterPlan: 'default',
      seed: 42,
    });
    expect(c.plan).toHaveLength(6);
    expect(c.default.contentType).toBe('text/plain; charset=utf-8');
    expect(c.seed).toBe(42);
    expect(parse({}).seed).toBe(99);
  });

  it.each([
    [{ default: { status: 700 } }, 'default.status'],
    [{ default: { status: 99 } }, 'default.status'],
    [{ default: { delayMs: -1 } }, 'default.delayMs'],
    [{ default: { delayMs: 10_000_000 } }, 'default.delayMs'],
    [{ plan: [{ status: 200 }, { fault: 'explode' }] }, 'plan[1].fault'],
    [{ plan: [{ stauts: 500 }] }, 'plan[0].stauts'],
    [{ plan: [{ status: 500, probability: 2 }] }, 'plan[0].probability'],
    [{ plan: [{ status: 500, times: 0 }] }, 'plan[0].times'],
    [{ plan: [{ fault: 'reset', status: 500 }] }, 'plan[0].status'],
    [{ plan: [{ match: { pathPrefix: 'hooks' } }] }, 'plan[0].match.pathPrefix'],
    [{ plan: 'nope' }, 'plan'],
    [{ afterPlan: 'forever' }, 'afterPlan'],
    [{ default: { headers: { 'content-length': '5' } } }, 'default.headers.content-length'],
    [{ default: { headers: { 'x-a': 'line\r\nbreak' } } }, 'default.headers.x-a'],
    [{ default: { headers: { 'bad name': 'v' } } }, 'default.headers.bad name'],
    [{ rules: [{ status: 500, times: 2 }] }, 'rules[0].times'],
    [{ seed: 1.5 }, 'seed'],
    [[], 'body'],
  ])('rejects %j naming %s', (input, field) => {
    expect(fieldOf(input)).toBe(field);
  });
});
