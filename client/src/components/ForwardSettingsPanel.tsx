// "Forward to…": every capture is sent on to each target (the target URL followed by the
// capture's sub-path and query), and optionally the sender gets the first target's answer
// (proxy mode). Saved with If-Match like every settings form; all refused fields marked.
import { useMemo, useRef, useState } from 'preact/hooks';
import { SaveBar } from './SaveBar.tsx';
import type { ForwardSettings } from '../../../shared/api.ts';
import { ApiError, api, isNotFound } from '../lib/api.ts';
import { type FieldErrors, clearSlot, focusFirstError, placeErrors, slotOfEvent } from '../lib/field-errors.ts';
import { forwardFieldErrors } from '../lib/forward-errors.ts';
import { useError } from '../lib/use-error.ts';
import { useRowFocus } from '../lib/use-row-focus.ts';
import { settingsChanges, useSettingsSync } from '../lib/use-settings-sync.ts';
import { Field, FieldError, groupError, inputValue } from './Field.tsx';
import { SettingsConflict } from './SettingsConflict.tsx';

const MAX_TARGETS = 10;

interface ForwardForm {
  targets: string[];
  answerWith: 'bin' | 'target';
}

const toForm = (v: ForwardSettings): ForwardForm => ({ targets: v.targets.map((t) => t.url), answerWith: v.answerWith });

export function ForwardSettingsPanel({ binId, disabled }: { binId: string; disabled?: boolean }) {
  const [form, setForm] = useState<ForwardForm | null>(null);
  const [saved, setSaved] = useState<ForwardForm | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [topError, setTopError] = useError();
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const formEl = useRef<HTMLFormElement>(null);
  const dirty = useMemo(() => JSON.stringify(form) !== JSON.stringify(saved), [form, saved]);
  const dirtyNow = useRef(false);
  dirtyNow.current = dirty;
  /** Where the keyboard goes once the rows change: a row's URL, or "+ Add" (see useRowFocus). */
  const { next: focusNext, addBtn } = useRowFocus(formEl, '[data-testid="forward-target"]');

  const sync = useSettingsSync<ForwardSettings>(binId, {
    load: () => api.getForward(binId),
    apply: (v) => {
      const f = toForm(v);
      setForm(f);
      setSaved(f);
      setErrors({});
    },
    dirty: () => dirtyNow.current,
    subscribe: settingsChanges(binId, 'forward'),
    onLoadError: (err) => setTopError(isNotFound(err) ? 'Could not load the forward settings: the bin was deleted.' : err),
  });

  if (!form) return topError ? <p class="notice notice-bad" role="alert">{topError}</p> : <p class="muted">Loading forward settings…</p>;

  const slots = ['targets', 'answerWith', ...form.targets.flatMap((_, i) => [`targets[${i}]`, `targets[${i}].url`])];
  const save = async (e?: Event, keep = false) => {
    e?.preventDefault();
    if (busy) return; // Enter in a field while Save is off (it keeps the focus: SaveBar's busy)
    setStatus(null);
    setTopError(null);
    const targets = form.targets.map((u) => u.trim()).filter(Boolean);
    setBusy(true);
    try {
      const write = (ifMatch: string | null) => api.putForward(binId, { targets: targets.map((url) => ({ url })), answerWith: form.answerWith }, ifMatch);
      const ok = keep ? await sync.keepMine(write) : await sync.save(write);
      if (ok) setStatus(targets.length ? `Saved: every new capture goes on to ${targets.length === 1 ? 'the target' : `${targets.length} targets`}.` : 'Saved: nothing is forwarded.');
    } catch (err) {
      if (err instanceof ApiError && err.fields.length) {
        // Blank rows were dropped, and the API counts from 0: rows named as the form shows them.
        const { errors: placed, rest } = placeErrors(forwardFieldErrors(err.fields, form.targets), slots);
        setErrors(placed);
        setTopError(rest.length ? rest.join('; ') : 'The server did not accept these settings: see the highlighted fields.');
        focusFirstError(formEl.current ?? document);
      } else setTopError(err);
    } finally {
      setBusy(false);
    }
  };

  const setTarget = (i: number, v: string) => setForm({ ...form, targets: form.targets.map((t, j) => (j === i ? v : t)) });
  const onEdit = (e: Event) => setErrors((cur) => clearSlot(cur, slotOfEvent(e)));
  const locked = busy || !!disabled;

  return (
    <form class="card settings-panel" onSubmit={save} onInput={onEdit} onChange={onEdit} noValidate data-testid="forward-panel" ref={formEl} aria-labelledby="h-forward">
      <h2 id="h-forward">Forward to…</h2>
      <p class="muted small">
        Each capture is sent on, byte for byte, to every target: the target URL followed by the capture's sub-path and query. The answers show under
        “Forwards” in each request's detail.
      </p>
      <SettingsConflict sync={sync} onKeepMine={() => save(undefined, true)} onError={setTopError} />
      <div data-field="targets" role="group" aria-label="Targets" {...groupError('err-targets', errors.targets)}>
        {errors.targets && <FieldError id="err-targets" message={errors.targets} />}
        {form.targets.length === 0 && <p class="muted">No targets: captures stay here.</p>}
        <ol class="targets">
          {form.targets.map((t, i) => (
            <li key={i} data-field={`targets[${i}]`}>
              <Field label={`Target ${i + 1}`} slot={`targets[${i}].url`} error={errors[`targets[${i}].url`] ?? errors[`targets[${i}]`]} wide>
                {(a) => (
                  <div class="input-row">
                    <input {...a} class="mono grow" value={t} placeholder="http://localhost:3000/webhooks" onInput={(e) => setTarget(i, inputValue(e))} data-testid="forward-target" />
                    <button
                      type="button"
                      class="btn btn-small"
                      onClick={() => {
                        // Its ✕ goes away with it: on to the next target's field, else "+ Add target".
                        focusNext.current = i < form.targets.length - 1 ? i : 'add';
                        setForm({ ...form, targets: form.targets.filter((_, j) => j !== i) });
                      }}
                      aria-label={`Remove target ${i + 1}`}
                      data-testid="remove-target"
                    >
                      ✕
                    </button>
                  </div>
                )}
              </Field>
            </li>
          ))}
        </ol>
        <button
          type="button"
          class="btn"
          ref={addBtn}
          onClick={() => {
            focusNext.current = form.targets.length;
            setForm({ ...form, targets: [...form.targets, ''] });
          }}
          disabled={form.targets.length >= MAX_TARGETS}
          data-testid="add-target"
        >
          + Add target
        </button>
        {form.targets.length >= MAX_TARGETS && <span class="muted small"> (at most {MAX_TARGETS})</span>}
      </div>
      <fieldset class="answer-with" data-field="answerWith" {...groupError('err-answerWith', errors.answerWith)}>
        <legend>Who answers the sender</legend>
        <label class="check check-wrap">
          <input type="radio" name={`answerWith-${binId}`} checked={form.answerWith === 'bin'} onChange={() => setForm({ ...form, answerWith: 'bin' })} data-testid="answer-bin" />
          <span>The bin (its response settings); forwarding happens in the background</span>
        </label>
        <label class="check check-wrap">
          <input type="radio" name={`answerWith-${binId}`} checked={form.answerWith === 'target'} onChange={() => setForm({ ...form, answerWith: 'target' })} data-testid="answer-target" />
          <span>The first target (proxy mode): the sender waits for it and gets its answer, as if hooklab were not in between</span>
        </label>
        {errors.answerWith && <FieldError id="err-answerWith" message={errors.answerWith} />}
      </fieldset>
      <SaveBar name="forward" status={status} topError={topError} locked={locked} busy={busy} dirty={dirty} onRevert={() => (setForm(saved), setErrors({}), setTopError(null))} />
    </form>
  );
}
