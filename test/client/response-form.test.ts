// The response editor's form model, checked against the server's own validator.
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, parseResponseConfig } from '../../server/control/validate.ts';
import { HttpError } from '../../server/http/errors.ts';
import { PRESETS, configToForm, describeStep, emptyStep, formToInput, slotFor } from '../../client/src/lib/response-form.ts';
import type { ResponseConfig } from '../../shared/api.ts';

const parse = (input: unknown) => parseResponseConfig(input, DEFAULT_LIMITS, () => 7);

describe('presets', () => {
  it.each(PRESETS.map((p) => [p.id, p]))('%s is accepted by the server as is', (_id, p) => {
    const c = parse({ ...p.config, seed: 1 });
    expect(c.seed).toBe(1);
    // And the form round-trips it unchanged.
    expect(parse(formToInput(configToForm(c)).input)).toEqual(c);
  });
  it('cover the issue list', () => {
    expect(PRESETS.map((p) => p.label)).toEqual(['Always 500', '500 ×3, then 200', '503 + Retry-After, then 200', '30% 503', 'Hang', 'Slow 200']);
  });
});

describe('form <-> wire', () => {
  const config: ResponseConfig = {
    default: { status: 202, headers: { 'X-A': '1' }, body: '', contentType: 'text/plain', delayMs: 10 },
    rules: [{ status: 404, match: { method: 'GET', pathPrefix: '/health' } }],
    plan: [
      { status: 503, times: 2, probability: 0.125, headers: { 'Retry-After': '5' }, body: 'busy', delayMs: 100 },
      { fault: 'reset' },
      { delayMs: 3000, match: { header: { name: 'X-Event', value: 'push' } } },
    ],
    afterPlan: 'loop',
    cors: false,
    seed: 99,
  };
  it('round-trips every field', () => {
    const form = configToForm(config);
    expect(form.plan[0].probability).toBe('12.5');
    expect(form.plan[0].headers).toBe('Retry-After: 5');
    const { input, errors } = formToInput(form);
    expect(errors).toEqual({});
    expect(parse(input)).toEqual(config);
  });
  it('passes what does not read as a number through, for the server to name', () => {
    const form = configToForm(config);
    form.plan[1] = emptyStep({ status: '5OO' });
    const { input } = formToInput(form);
    expect(() => parse(input)).toThrowError(HttpError);
    try {
      parse(input);
    } catch (e) {
      expect((e as HttpError).field).toBe('plan[1].status');
      expect(slotFor((e as HttpError).field!, ['plan', 'plan[1]', 'plan[1].status'])).toBe('plan[1].status');
    }
  });
  it('checks what only the form can phrase: percentages and header lines', () => {
    const form = configToForm(config);
    form.plan[0].probability = '130';
    form.default.headers = 'X-A: 1\nno colon here';
    const { errors } = formToInput(form);
    expect(errors).toEqual({ 'plan[0].probability': 'must be a percentage from 0 to 100', 'default.headers': 'line 2: write each header as "Name: value"' });
  });
});

describe('slotFor', () => {
  const slots = ['plan', 'plan[2]', 'plan[2].status', 'plan[2].headers', 'plan[12]', 'default.status'];
  it('picks the field or its nearest parent', () => {
    expect(slotFor('plan[2].status', slots)).toBe('plan[2].status');
    expect(slotFor('plan[2].headers.X-Bad', slots)).toBe('plan[2].headers');
    expect(slotFor('plan[2].match.method', slots)).toBe('plan[2]');
    expect(slotFor('plan[12].times', slots)).toBe('plan[12]');
    expect(slotFor('plan', slots)).toBe('plan');
    expect(slotFor('seed', slots)).toBeNull();
  });
});

describe('describeStep', () => {
  it('says what a step does in a line', () => {
    const def = { status: 200, headers: {}, body: 'ok', contentType: 'text/plain', delayMs: 0 };
    expect(describeStep({ status: 500, times: 3 }, def)).toBe('500, ×3');
    expect(describeStep({ status: 503, probability: 0.3 }, def)).toBe('503, 30% of the time');
    expect(describeStep({ fault: 'timeout' }, def)).toBe('hang (no answer)');
    expect(describeStep({ delayMs: 50, match: { method: 'POST' } }, def)).toBe('200 (default), after 50 ms, only POST');
  });
});
