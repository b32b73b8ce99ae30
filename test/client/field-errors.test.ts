// A 400's field errors placed on a form, all at once, each on the nearest slot.
import { describe, expect, it } from 'vitest';
import { clearSlot, placeErrors } from '../../client/src/lib/field-errors.ts';

describe('placeErrors', () => {
  const slots = ['default.status', 'plan', 'plan[0]', 'plan[0].status', 'plan[0].headers', 'targets[1].url'];
  it('puts every error on its slot; a parent slot names the field; the rest go to the top', () => {
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
});

describe('clearSlot', () => {
  it('drops one mark, and keeps the same object when there is none', () => {
    const e = { a: 'x', b: 'y' };
    expect(clearSlot(e, 'a')).toEqual({ b: 'y' });
    expect(clearSlot(e, 'c')).toBe(e);
    expect(clearSlot(e, null)).toBe(e);
  });
});
