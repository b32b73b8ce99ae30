// A 400's field errors placed on a form, all at once, each on the nearest slot, and said in the
// form's terms (the response editor's against the server's own validator and messages).
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, parseResponseConfig } from '../../server/control/validate.ts';
import { HttpError } from '../../server/http/errors.ts';
import type { FieldError } from '../../shared/api.ts';
import { clearSlot, nameFromSlot, placeErrors } from '../../client/src/lib/field-errors.ts';
import { type ResponseForm, type StepForm, configToForm, describeResponseError, emptyStep, formToInput, responseFieldAlias, responseSlots } from '../../client/src/lib/response-form.ts';

describe('placeErrors', () => {
  const slots = ['default.status', 'plan', 'plan[0]', 'plan[0].status', 'plan[0].headers', 'targets[1].url'];
  it('puts every error on its slot; with no describe, a parent slot names the field by its API path; the rest go to the top', () => {
    const { errors, rest } = placeErrors(
      [
        { field: 'default.status', message: 'must be from 200 to 599' },
        { field: 'plan[0].headers.Content-Length', message: 'is set by the server' },
        { field: 'plan[0].match.method', message: 'must be an HTTP token' },
        { field: 'plan[0].status', message: 'must be an integer' },
        { field: 'seed', message: 'must be an integer' },
      ],
      slots,
    );
    expect(errors).toEqual({
      'default.status': 'must be from 200 to 599',
      'plan[0].headers': 'plan[0].headers.Content-Length: is set by the server',
      'plan[0]': 'plan[0].match.method: must be an HTTP token',
      'plan[0].status': 'must be an integer',
    });
    expect(rest).toEqual(['seed: must be an integer']);
  });
  it('joins two errors on one slot, and renames fields first when asked', () => {
    const { errors } = placeErrors(
      [
        { field: 'targets[0].url', message: 'must be an absolute URL' },
        { field: 'targets[0].url', message: 'would loop' },
      ],
      slots,
      (f) => f.replace('targets[0]', 'targets[1]'),
    );
    expect(errors).toEqual({ 'targets[1].url': 'must be an absolute URL; would loop' });
  });
  it('nameFromSlot names a field from the slot that shows it', () => {
    expect(nameFromSlot('plan[0].match.method', 'plan[0]', 'must be an HTTP token')).toBe('match.method: must be an HTTP token');
    expect(nameFromSlot('plan[0].status', 'plan[0].status', 'must be an integer')).toBe('must be an integer');
  });
});

describe('the response editor: refused fields as the form shows them', () => {
  /** The server's 400 for what the form sends (its own validator, paths and messages). */
  function refused(form: ResponseForm): FieldError[] {
    const { input, errors } = formToInput(form);
    expect(errors).toEqual({});
    try {
      parseResponseConfig(input, DEFAULT_LIMITS, () => 7);
    } catch (e) {
      expect(e).toBeInstanceOf(HttpError);
      return (e as HttpError).fields!;
    }
    throw new Error('the server accepted it');
  }
  const formWith = (plan: Partial<StepForm>[], over: Partial<ResponseForm> = {}): ResponseForm => ({
    ...configToForm({ default: { status: 200, headers: {}, body: 'ok\n', contentType: 'text/plain', delayMs: 0 }, rules: [], plan: [], afterPlan: 'default', seed: 1, cors: true }),
    plan: plan.map((s) => emptyStep(s)),
    ...over,
  });
  function shown(form: ResponseForm) {
    return placeErrors(refused(form), responseSlots(form), responseFieldAlias, describeResponseError(form));
  }

  it('a refused header: its line in the box as typed (blank lines counted), the header named, not "plan[0].headers.…"', () => {
    const { errors, rest } = shown(formWith([{ status: '503', headers: 'Content-Length: 5' }]));
    expect(rest).toEqual([]);
    expect(errors).toEqual({ 'plan[0].headers': 'line 1: Content-Length is set by the server and cannot be overridden' });

    const many = shown(formWith([{}, { headers: 'Retry-After: 1\n\nX Bad: 2\nSet-Cookie: a=b\n' }]));
    expect(many.errors['plan[1].headers']).toBe(
      [
        'line 3: header name "X Bad" must be an HTTP token (letters, digits and !#$%&\'*+-.^_`|~)',
        "line 4: Set-Cookie cannot be set by a bin: it would change what hooklab's own origin allows (cookies/CSP/HSTS/…); receiver URLs share the UI's origin",
      ].join('; '),
    );
  });

  it('tells a refused value from a refused name (both come under the same field), and names every line of a name typed twice', () => {
    const { errors } = shown(formWith([{ headers: 'X-Note: “quoted”\nConnection: close ✓' }]));
    expect(errors['plan[0].headers'].split('; ')).toEqual([
      'line 1: the value of X-Note must not contain control characters, line breaks or characters beyond Latin-1',
      'line 2: the value of Connection must not contain control characters, line breaks or characters beyond Latin-1',
      'line 2: Connection is set by the server and cannot be overridden',
    ]);
    const twice = shown(formWith([{ headers: 'Content-Length: 1\nX-A: b\nContent-Length: 2' }]));
    expect(twice.errors['plan[0].headers']).toBe('lines 1, 3: Content-Length is set by the server and cannot be overridden');
    const long = shown(formWith([{ headers: `X-Old: 1\nX-Big: ${'v'.repeat(9000)}` }]));
    expect(long.errors['plan[0].headers']).toBe('line 2: the value of X-Big must be at most 8192 characters');
  });

  it('the default headers and a rule\'s headers read the same', () => {
    const form = formWith([], {
      default: { status: '200', contentType: 'text/plain', body: 'ok\n', delayMs: '0', headers: 'X-A: 1\nTransfer-Encoding: chunked' },
      rules: [emptyStep({ status: '404', headers: '\nStrict-Transport-Security: max-age=1' })],
    });
    const { errors, rest } = shown(form);
    expect(rest).toEqual([]);
    expect(errors['default.headers']).toBe('line 2: Transfer-Encoding is set by the server and cannot be overridden');
    expect(errors['rules[0].headers']).toMatch(/^line 2: Strict-Transport-Security cannot be set by a bin: /);
  });

  it('every other field of a step: on its own field, without "plan[N]." (the step\'s box says which step)', () => {
    const form = formWith([
      { status: '99', times: '0', delayMs: '999999999', contentType: 'text/plain\u0001' },
      {
        matchMethod: 'GE T',
        matchPathPrefix: 'hooks',
        matchHeaderName: 'X Event',
        matchHeaderValue: 'v'.repeat(8193),
        matchJsonPath: 'data..id',
        matchJsonEquals: 'x',
      },
    ]);
    const { errors, rest } = shown(form);
    expect(rest).toEqual([]);
    expect(errors).toEqual({
      'plan[0].status': 'must be from 200 to 599',
      'plan[0].times': 'must be from 1 to 1000000',
      'plan[0].delayMs': 'must be from 0 to 120000',
      'plan[0].contentType': 'must not contain control characters, line breaks or characters beyond Latin-1',
      'plan[1].match.method': "must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~)",
      'plan[1].match.pathPrefix': 'must start with "/"',
      // The "Only with header" and "Only with JSON field" inputs are the name and the path.
      'plan[1].match.header': "must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~)",
      'plan[1].match.header.value': 'must be at most 8192 characters',
      'plan[1].match.json': 'must be field names joined by dots, e.g. "event" or "data.items.0.id"',
    });
    for (const text of Object.values(errors)) expect(text).not.toMatch(/plan\[|rules\[/);
  });

  it('what the form cannot send still reads from its box: named from the step, or said at the top when no box shows it', () => {
    const form = formWith([{}]);
    const describe = describeResponseError(form);
    const { errors, rest } = placeErrors(
      [
        { field: 'plan[0].stauts', message: 'unknown field (allowed: status, …)' },
        { field: 'plan[0].match.json.equals', message: 'must be a string, number, true, false or null' },
        { field: 'plan[0].headers', message: 'at most 50 headers' },
        { field: 'plan', message: 'at most 200 entries' },
        { field: 'body', message: 'must be a JSON object' },
      ],
      responseSlots(form),
      responseFieldAlias,
      describe,
    );
    expect(errors).toEqual({
      'plan[0]': 'stauts: unknown field (allowed: status, …)',
      'plan[0].match.json.equals': 'must be a string, number, true, false or null',
      'plan[0].headers': 'at most 50 headers',
      plan: 'at most 200 entries',
    });
    expect(rest).toEqual(['body: must be a JSON object']);
    // A header no line has any more (the form changed meanwhile): named, without a line.
    expect(describe('plan[0].headers.Keep-Alive', 'plan[0].headers', 'is set by the server and cannot be overridden')).toBe('Keep-Alive is set by the server and cannot be overridden');
  });
});

describe('clearSlot', () => {
  it('drops one mark, and keeps the same object when there is none', () => {
    const e = { a: 'x', b: 'y' };
    expect(clearSlot(e, 'a')).toEqual({ b: 'y' });
    expect(clearSlot(e, 'c')).toBe(e);
    expect(clearSlot(e, null)).toBe(e);
  });
});
