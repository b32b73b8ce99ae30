// Where the bin's list rows take their label from (`labelFrom`), under the bin's name: what is
// in use at a glance, and a one-line editor (comma-separated sources, first with a value
// wins), with the server's validation messages in place.
import { useState } from 'preact/hooks';
import type { Bin } from '../../../shared/api.ts';
import { ApiError, api, isNotFound } from '../lib/api.ts';
import { type FieldErrors, placeErrors } from '../lib/field-errors.ts';
import { DEFAULT_RULES, formatSources, parseSources } from '../lib/row-label.ts';
import { useError } from '../lib/use-error.ts';
import { Field, inputValue } from './Field.tsx';

interface Props {
  bin: Bin;
  disabled: boolean;
  /** Sends the change and shows the answer (see useBinRequests' writeBin). */
  write: (change: () => Promise<Bin>) => Promise<Bin>;
  onGone: () => void;
}

export function RowLabelSettings({ bin, disabled, write, onGone }: Props) {
  const [open, setOpen] = useState(false);
  // null: not edited, so the field shows what is in use.
  const [draft, setText] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useError();
  const [busy, setBusy] = useState(false);
  const current = bin.labelFrom ?? [];
  const text = draft ?? formatSources(current);

  const toggle = (e: Event) => {
    const isOpen = (e.currentTarget as HTMLDetailsElement).open;
    setOpen(isOpen);
    // Cleared on closing, not on opening: the toggle event comes a moment after the details
    // open, and by then the user (or a test) may have typed already.
    if (!isOpen) {
      setText(null);
      setErrors({});
      setError(null);
    }
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const sources = parseSources(text);
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      await write(() => api.setLabelFrom(bin.id, sources));
      setOpen(false);
    } catch (err) {
      if (isNotFound(err)) {
        onGone();
        setError('Could not save: the bin was deleted.');
      } else if (err instanceof ApiError && err.fields.length) {
        // "“foo” must start with json: or header:": which one, as typed (its place in the API's list means nothing here).
        const fields = err.fields.map((f) => {
          const i = /^labelFrom\[(\d+)\]$/.exec(f.field)?.[1];
          return i !== undefined && sources[+i] !== undefined ? { field: 'labelFrom', message: `“${sources[+i]}” ${f.message}` } : f;
        });
        const { errors: placed, rest } = placeErrors(fields, ['labelFrom']);
        setErrors(placed);
        if (rest.length) setError(rest.join('; '));
      } else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <details class="row-labels" open={open} onToggle={toggle}>
      <summary data-testid="row-labels">
        Row labels: <span class="mono" data-testid="row-labels-current">{current.length ? `from ${formatSources(current)}` : 'built-in'}</span>
      </summary>
      <form class="row-labels-form" onSubmit={save} onInput={() => setErrors({})} noValidate data-testid="row-labels-form">
        <Field
          label="Take each row's label from (comma-separated, first with a value wins)"
          slot="labelFrom"
          error={errors.labelFrom}
          wide
          hint={
            <>
              Each is <code>json:</code> and a path into a JSON body (<code>json:data.object.type</code>, <code>json:items.0.kind</code>), or <code>header:</code>{' '}
              and a header name (<code>header:x-github-event</code>); at most 10. Empty, or when none has a value: the built-in rules, {DEFAULT_RULES}.
            </>
          }
        >
          {(a) => (
            <input
              {...a}
              class="mono"
              value={text}
              maxLength={2300}
              placeholder="json:data.object.type, header:x-event-type"
              onInput={(e) => setText(inputValue(e))}
              disabled={disabled}
              data-testid="row-labels-input"
            />
          )}
        </Field>
        {error && (
          <p class="notice notice-bad small" role="alert" data-testid="row-labels-error">
            {error}
          </p>
        )}
        <div class="row">
          <button type="submit" class="btn btn-small btn-primary" disabled={disabled || busy} data-testid="row-labels-save">
            {busy ? 'Saving…' : 'Save'}
          </button>
          <button type="button" class="btn btn-small" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </div>
      </form>
    </details>
  );
}
