// The response editor's form model, checked against the server's own validator.
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, parseResponseConfig } from '../../server/control/validate.ts';
import { HttpError } from '../../server/http/errors.ts';
import { PRESETS, bodyNotSentHint, configToForm, describeStep, emptyStep, formToInput, formWithPreset, slotFor, withPreset } from '../../client/src/lib/response-form.ts';
import type { ResponseConfig } from '../../shared/api.ts';

const parse = (input: unknown) => parseResponseConfig(input, DEFAULT_LIMITS, () => 7);

describe('presets', () => {
  // The user's own default response (a CORS header, a body) and rules.
  const mine = () =>
    parse({
      default: { status: 201, headers: { 'Access-Control-Allow-Origin': '*' }, body: 'mine\n', contentType: 'text/plain' },
      rules: [{ status: 404, match: { method: 'GET' } }],
      cors: false,
      seed: 1,
    });
  it.each(PRESETS.map((p) => [p.id, p]))('%s is accepted by the server and sets the plan only', (_id, p) => {
    const before = mine();
    const c = parse(withPreset(before, p));
    expect(c.plan).toEqual(p.plan);
    expect({ ...c, plan: before.plan, afterPlan: before.afterPlan }).toEqual(before);
    // And the form round-trips it unchanged.
    expect(parse(formToInput(configToForm(c)).input)).toEqual(c);
  });
  it('applied to a form with unsaved edits, keeps them', () => {
    const form = configToForm(mine());
    form.default.headers = 'Access-Control-Allow-Origin: https://app.example';
    const next = formWithPreset(form, PRESETS[0]);
    expect(next.default).toEqual(form.default);
    expect(next.rules).toEqual(form.rules);
    expect(parse(formToInput(next).input).default.headers).toEqual({ 'Access-Control-Allow-Origin': 'https://app.example' });
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

describe('a body that is not sent', () => {
  it('is hinted under a Body field whose answer (its own status, or the default\'s) is a 204, 205 or 304', () => {
    expect(bodyNotSentHint('205', 'yy')).toBe('Not sent: a 205 carries no body (HTTP; a 205 goes with Content-Length: 0).');
    expect(bodyNotSentHint(' 204 ', 'x')).toMatch(/^Not sent: a 204/);
    expect(bodyNotSentHint('304', 'x')).toMatch(/^Not sent: a 304/);
    expect(bodyNotSentHint('205', '')).toBeUndefined();
    expect(bodyNotSentHint('200', 'x')).toBeUndefined();
    expect(bodyNotSentHint('', 'x')).toBeUndefined();
  });
});
