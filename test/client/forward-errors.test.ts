// "Forward to…" field errors in the form's terms: rows counted as the form shows them (blank
// ones too), and a target named in a message as the form labels it, not by the API's index.
import { describe, expect, it } from 'vitest';
import { forwardFieldErrors } from '../../client/src/lib/forward-errors.ts';

describe('forwardFieldErrors', () => {
  it('names the earlier target as the form does: "Target 2", not "targets[1]"', () => {
    expect(forwardFieldErrors([{ field: 'targets[2].url', message: 'is targets[1] again: each capture would be sent there twice' }], ['http://x/1', 'http://x/a', 'http://x/a'])).toEqual([
      { field: 'targets[2].url', message: 'is Target 2 again: each capture would be sent there twice' },
    ]);
  });

  it('counts the blank rows the form dropped before sending, in the field and in the message', () => {
    // Rows: 1 "a", 2 blank, 3 "b", 4 blank, 5 "a": the API got [a, b, a].
    const typed = ['http://x/a', ' ', 'http://x/b', '', 'http://x/a/'];
    expect(
      forwardFieldErrors(
        [
          { field: 'targets[2].url', message: 'is targets[0] again (only a trailing "/" differs: every sub-path is joined to both the same way): each capture would be sent there twice' },
          { field: 'targets[1].url', message: 'must use http or https' },
          { field: 'answerWith', message: 'proxy mode (answerWith: target) needs at least one target' },
        ],
        typed,
      ),
    ).toEqual([
      { field: 'targets[4].url', message: 'is Target 1 again (only a trailing "/" differs: every sub-path is joined to both the same way): each capture would be sent there twice' },
      { field: 'targets[2].url', message: 'must use http or https' },
      { field: 'answerWith', message: 'proxy mode (answerWith: target) needs at least one target' },
    ]);
  });
});
