// The bin's response settings: the default answer, the failure plan (steps consumed one per
// request), standing rules, one-click presets (they set the plan only, with an Undo), the
// plan's live position and a reset. Every field the server refuses is marked in place at
// once; a change made elsewhere reloads the form, or shows a conflict when it holds edits.
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { PlanPosition, ResponseConfig, ResponseControlView } from '../../../shared/api.ts';
import { ApiError, api, isNotFound } from '../lib/api.ts';
import { type FieldErrors, clearSlot, focusFirstError, placeErrors, slotOfEvent } from '../lib/field-errors.ts';
import {
  type ResponseForm,
  type StepForm,
  PRESETS,
  bodyNotSentHint,
  configToForm,
  describeResponseError,
  describeStep,
  emptyStep,
  formToInput,
  formWithPreset,
  responseFieldAlias,
  responseSlots,
} from '../lib/response-form.ts';
import { liveOrder } from '../lib/live-order.ts';
import { getSocket } from '../lib/socket.ts';
import { useError } from '../lib/use-error.ts';
import { settingsChanges, useSettingsSync } from '../lib/use-settings-sync.ts';
import { useFocusAfter } from '../lib/use-focus-after.ts';
import { Announcer, useAnnouncer } from './Announcer.tsx';
import { Field, FieldError, groupError } from './Field.tsx';
import { KeepFocusButton } from './KeepFocusButton.tsx';
import { SettingsConflict } from './SettingsConflict.tsx';

interface Props {
  binId: string;
  /** The bin is gone: nothing can be saved. */
  disabled?: boolean;
}

const sameConfig = (a: ResponseControlView, b: ResponseControlView) => JSON.stringify(a.config) === JSON.stringify(b.config);

export function ResponseEditor({ binId, disabled }: Props) {
  const [config, setConfig] = useState<ResponseConfig | null>(null);
  const [position, setPosition] = useState<PlanPosition | null>(null);
  const [form, setForm] = useState<ResponseForm | null>(null);
  const [saved, setSaved] = useState<ResponseForm | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [topError, setTopError] = useError();
  const [status, setStatus] = useState<string | null>(null);
  /** The settings before the last preset, for its Undo. */
  const [undo, setUndo] = useState<{ label: string; config: ResponseConfig } | null>(null);
  const [busy, setBusy] = useState(false);
  const formEl = useRef<HTMLFormElement>(null);
  const focusAfter = useFocusAfter(formEl);

  const dirty = useMemo(() => JSON.stringify(form) !== JSON.stringify(saved), [form, saved]);
  const dirtyNow = useRef(false);
  dirtyNow.current = dirty;
  /** The position comes live and with answers: an answer a live position overtook is older. */
  const [order] = useState(liveOrder);

  const sync = useSettingsSync<ResponseControlView>(binId, {
    load: () => order.ask(() => api.getResponse(binId), (t) => t.value),
    apply: (v) => {
      const f = configToForm(v.config);
      setConfig(v.config);
      if (!order.overtaken(v)) setPosition(v.position);
      setForm(f);
      setSaved(f);
      setErrors({});
    },
    dirty: () => dirtyNow.current,
    same: sameConfig,
    subscribe: settingsChanges(binId, 'response'),
    onLoadError: (err) => setTopError(isNotFound(err) ? 'Could not load the response settings: the bin was deleted.' : err),
  });

  useEffect(() => {
    const s = getSocket();
    const onPos = (e: { binId: string; position: PlanPosition }) => {
      if (e.binId !== binId) return;
      order.live();
      setPosition(e.position);
    };
    s.on('response:position', onPos);
    return () => void s.off('response:position', onPos);
  }, [binId]);

  if (!form || !config) return topError ? <p class="notice notice-bad" role="alert">{topError}</p> : <p class="muted">Loading response settings…</p>;

  /** `shown`: the form on screen once the save is refused, whose lines the messages count. */
  const showServerErrors = (err: unknown, shown: ResponseForm) => {
    if (err instanceof ApiError && err.fields.length) {
      const { errors: placed, rest } = placeErrors(err.fields, responseSlots(shown), responseFieldAlias, describeResponseError(shown));
      setErrors(placed);
      const n = Object.keys(placed).length;
      setTopError(rest.length ? rest.join('; ') : `The server did not accept these settings: see the ${n === 1 ? 'highlighted field' : `${n} highlighted fields`}.`);
      if (n) focusFirstError(formEl.current ?? document);
    } else setTopError(err);
  };

  /** Save a config with If-Match; false when it met a conflict or an error (both shown). */
  const put = async (input: ReturnType<typeof formToInput>['input'], message: string, keep = false, shown = form): Promise<boolean> => {
    setBusy(true);
    setStatus(null);
    setTopError(null);
    try {
      const write = (ifMatch: string | null) => order.ask(() => api.putResponse(binId, input, ifMatch), (t) => t.value);
      const ok = keep ? await sync.keepMine(write) : await sync.save(write);
      if (ok) setStatus(message);
      return ok;
    } catch (err) {
      showServerErrors(err, shown);
      return false;
    } finally {
      setBusy(false);
    }
  };

  /**
   * The server's check of settings the form already refuses: its refusals, or why it gave none.
   * Tried twice: a check lost to a dropped connection would hide the server's refusals until
   * the next save.
   */
  const serverCheck = async (input: ReturnType<typeof formToInput>['input']): Promise<{ fields: ApiError['fields'] } | { failed: ApiError | Error }> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await api.checkResponse(binId, input);
        return { fields: [] };
      } catch (err) {
        if (err instanceof ApiError && err.fields.length) return { fields: err.fields };
        // A 4xx without fields (the bin was deleted, say) says the same the second time.
        const transient = !(err instanceof ApiError) || err.status === 0 || err.status >= 500;
        if (attempt >= 2 || !transient) return { failed: err instanceof Error ? err : new Error(String(err)) };
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };

  const validInput = async () => {
    const { input, errors: local } = formToInput(form);
    if (Object.keys(local).length) {
      // What the form could read is checked by the server too, so every refusal shows now, not
      // one round at a time (a header line it cannot read hid a status of 700 until the next save).
      const checked = await serverCheck(input);
      let all = local;
      let rest: string[] = [];
      if ('fields' in checked && checked.fields.length) {
        const out = placeErrors(checked.fields, responseSlots(form), responseFieldAlias, describeResponseError(form));
        rest = out.rest;
        all = { ...out.errors };
        for (const [slot, text] of Object.entries(local)) all[slot] = out.errors[slot] ? `${text}; ${out.errors[slot]}` : text;
      }
      setErrors(all);
      const unchecked = 'failed' in checked ? ` The server could not check the other fields, so it may refuse more: ${checked.failed.message}` : '';
      setTopError(`Fix the highlighted fields, then save again.${rest.length ? ` Also: ${rest.join('; ')}.` : ''}${unchecked}`);
      focusFirstError(formEl.current ?? document);
      return null;
    }
    return input;
  };

  const save = async (e?: Event, keep = false) => {
    e?.preventDefault();
    if (busy) return; // Enter in a field while Save is off (it keeps the focus, see KeepFocusButton)
    setStatus(null);
    const input = await validInput();
    if (!input) return;
    if (await put(input, 'Saved. The plan starts again from step 1.', keep)) setUndo(null);
  };

  const applyPreset = async (id: string) => {
    const p = PRESETS.find((x) => x.id === id)!;
    // Onto what the form holds: the default response, its headers and the rules stay.
    const next = formWithPreset(form, p);
    const before = config;
    setForm(next);
    const { input, errors: local } = formToInput(next);
    if (Object.keys(local).length) {
      setErrors(local);
      setTopError('Fix the highlighted fields, then apply the preset again.');
      return;
    }
    if (await put(input, `Applied “${p.label}”.`, false, next)) setUndo({ label: p.label, config: before });
  };

  const undoPreset = async () => {
    if (!undo) return;
    const { input } = formToInput(configToForm(undo.config));
    if (await put(input, `Undone: the settings from before “${undo.label}” are back.`)) setUndo(null);
  };

  const reset = async () => {
    try {
      const v = await order.ask(() => api.resetResponse(binId));
      if (!order.overtaken(v)) setPosition(v.position);
      setStatus('Plan reset: the next request meets step 1.');
    } catch (err) {
      setTopError(err);
    }
  };

  const setDef = (k: keyof ResponseForm['default'], v: string) => setForm({ ...form, default: { ...form.default, [k]: v } });
  const setStep = (list: 'plan' | 'rules', i: number, patch: Partial<StepForm>) =>
    setForm({ ...form, [list]: form[list].map((s, j) => (j === i ? { ...s, ...patch } : s)) });
  const moveStep = (list: 'plan' | 'rules', i: number, d: -1 | 1) => {
    const arr = [...form[list]];
    const j = i + d;
    if (j < 0 || j >= arr.length) return;
    [arr[i], arr[j]] = [arr[j], arr[i]];
    // Rows are keyed by index: the focus would stay at i and a second press move the step back.
    // It goes with the step, to the same arrow unless the step reached the end.
    const dir = j === 0 ? 'down' : j === arr.length - 1 ? 'up' : d < 0 ? 'up' : 'down';
    focusAfter(`[data-testid="${list}-step"][data-index="${j}"] [aria-label$=" ${dir}"]`);
    setForm({ ...form, [list]: arr });
  };
  const removeStep = (list: 'plan' | 'rules', i: number) => {
    const left = form[list].length - 1;
    // Its ✕ may go with it: on to the ✕ now at its place, else the one before, else "+ Add".
    focusAfter(left === 0 ? `[data-testid="add-${list === 'plan' ? 'step' : 'rule'}"]` : `[data-testid="${list}-step"][data-index="${Math.min(i, left - 1)}"] [aria-label^="Remove"]`);
    setForm({ ...form, [list]: form[list].filter((_, j) => j !== i) });
  };
  const addStep = (list: 'plan' | 'rules') => setForm({ ...form, [list]: [...form[list], emptyStep({ status: list === 'plan' ? '500' : '' })] });

  const err = (slot: string) => errors[slot];
  // Editing a marked field takes its mark away.
  const onEdit = (e: Event) => setErrors((cur) => clearSlot(cur, slotOfEvent(e)));
  const locked = busy || !!disabled;

  return (
    <form class="response-editor" onSubmit={save} onInput={onEdit} onChange={onEdit} noValidate data-testid="response-editor" ref={formEl}>
      <section class="card" aria-labelledby="h-presets">
        <h2 id="h-presets">Presets</h2>
        <p class="muted small">One click sets the failure plan and saves it. Your default response (body, headers such as CORS ones) and rules stay as they are.</p>
        <div class="preset-row">
          {PRESETS.map((p) => (
            <KeepFocusButton key={p.id} type="button" class="btn" title={p.description} data-testid={`preset-${p.id}`} onClick={() => applyPreset(p.id)} off={busy} disabled={!!disabled}>
              {p.label}
            </KeepFocusButton>
          ))}
        </div>
      </section>

      <PositionPanel position={position} config={config} onReset={reset} disabled={!!disabled} />

      <SettingsConflict sync={sync} onKeepMine={() => save(undefined, true)} onError={setTopError} />

      {(topError || status) && (
        <p class={`notice ${topError ? 'notice-bad' : 'notice-ok'}`} role={topError ? 'alert' : 'status'} data-testid={topError ? 'response-error' : 'response-status'}>
          {topError ?? status}
        </p>
      )}
      {!topError && status && undo && (
        <p class="undo-row">
          <button type="button" class="btn btn-small" onClick={undoPreset} disabled={locked} data-testid="undo-preset">
            Undo “{undo.label}”
          </button>
        </p>
      )}

      <section class="card" aria-labelledby="h-default">
        <h2 id="h-default">Default response</h2>
        <p class="muted small">Answers every request no plan step or rule answers.</p>
        <div class="grid-fields">
          <Field label="Status" slot="default.status" error={err('default.status')}>
            {(a) => <input {...a} inputMode="numeric" class="in-short" value={form.default.status} onInput={(e) => setDef('status', val(e))} data-testid="default-status" />}
          </Field>
          <Field label="Delay (ms)" slot="default.delayMs" error={err('default.delayMs')}>
            {(a) => <input {...a} inputMode="numeric" class="in-short" value={form.default.delayMs} onInput={(e) => setDef('delayMs', val(e))} data-testid="default-delay" />}
          </Field>
          <Field label="Content type" slot="default.contentType" error={err('default.contentType')} wide>
            {(a) => <input {...a} value={form.default.contentType} onInput={(e) => setDef('contentType', val(e))} />}
          </Field>
          <Field label="Body" slot="default.body" error={err('default.body')} wide hint={bodyNotSentHint(form.default.status, form.default.body)}>
            {(a) => <textarea {...a} rows={3} class="mono" value={form.default.body} onInput={(e) => setDef('body', val(e))} />}
          </Field>
          <Field label="Headers (one “Name: value” per line)" slot="default.headers" error={err('default.headers')} wide>
            {(a) => <textarea {...a} rows={2} class="mono" value={form.default.headers} onInput={(e) => setDef('headers', val(e))} placeholder="X-Example: 1" data-testid="default-headers" />}
          </Field>
        </div>
      </section>

      <section class="card" aria-labelledby="h-plan" data-field="plan" {...groupError('err-plan', err('plan'))}>
        <h2 id="h-plan">Failure plan</h2>
        <p class="muted small">Each matching request uses up the current step (or one of its “times”), then the plan moves on.</p>
        {err('plan') && <FieldError id="err-plan" message={err('plan')!} />}
        {form.plan.length === 0 && <p class="muted">No steps: the default response answers every request.</p>}
        <ol class="steps">
          {form.plan.map((s, i) => (
            <StepEditor
              key={i}
              list="plan"
              index={i}
              step={s}
              count={form.plan.length}
              current={!!position && !position.exhausted && position.step === i}
              used={position && position.step === i ? position.usedInStep : 0}
              errors={errors}
              defaultStatus={form.default.status}
              onChange={(patch) => setStep('plan', i, patch)}
              onMove={(d) => moveStep('plan', i, d)}
              onRemove={() => removeStep('plan', i)}
            />
          ))}
        </ol>
        <div class="row">
          <button type="button" class="btn" onClick={() => addStep('plan')} data-testid="add-step">
            + Add step
          </button>
          <fieldset class="inline-radios" data-field="afterPlan" {...groupError('err-afterPlan', err('afterPlan'))}>
            <legend>After the last step</legend>
            <label class="check">
              <input type="radio" name="afterPlan" checked={form.afterPlan === 'default'} onChange={() => setForm({ ...form, afterPlan: 'default' })} /> use the default
            </label>
            <label class="check">
              <input type="radio" name="afterPlan" checked={form.afterPlan === 'loop'} onChange={() => setForm({ ...form, afterPlan: 'loop' })} data-testid="after-loop" /> start over (loop)
            </label>
            {err('afterPlan') && <FieldError id="err-afterPlan" message={err('afterPlan')!} />}
          </fieldset>
        </div>
      </section>

      <details class="card" open={form.rules.length > 0 || Object.keys(errors).some((k) => k.startsWith('rules') || k === 'seed' || k === 'cors')}>
        <summary>
          <h2 class="inline-h">Rules, seed and CORS</h2> <span class="muted small">({form.rules.length} rules)</span>
        </summary>
        <p class="muted small">Rules are checked before the plan and never used up, e.g. “always 404 for GET /health”.</p>
        {err('rules') && <FieldError id="err-rules" message={err('rules')!} />}
        <ol class="steps" aria-label="Rules" {...groupError('err-rules', err('rules'))}>
          {form.rules.map((s, i) => (
            <StepEditor
              key={i}
              list="rules"
              index={i}
              step={s}
              count={form.rules.length}
              current={false}
              used={0}
              errors={errors}
              defaultStatus={form.default.status}
              onChange={(patch) => setStep('rules', i, patch)}
              onMove={(d) => moveStep('rules', i, d)}
              onRemove={() => removeStep('rules', i)}
            />
          ))}
        </ol>
        <button type="button" class="btn" onClick={() => addStep('rules')} data-testid="add-rule">
          + Add rule
        </button>
        <Field label="Seed for probability steps (same seed, same sequence)" slot="seed" error={err('seed')}>
          {(a) => <input {...a} inputMode="numeric" class="in-medium" value={form.seed} onInput={(e) => setForm({ ...form, seed: val(e) })} data-testid="seed" />}
        </Field>
        <div data-field="cors" role="group" aria-label="CORS" {...groupError('err-cors', err('cors'))}>
          <label class="check">
            <input type="checkbox" checked={form.cors} onChange={(e) => setForm({ ...form, cors: (e.target as HTMLInputElement).checked })} data-testid="cors" /> Answer browsers on
            other origins (CORS): preflights get 204 without using a plan step; answers allow the sender's origin
          </label>
          {err('cors') && <FieldError id="err-cors" message={err('cors')!} />}
        </div>
      </details>

      <div class="save-bar">
        <KeepFocusButton type="submit" class="btn btn-primary" off={busy} disabled={!!disabled} data-testid="save-response">
          Save
        </KeepFocusButton>
        <KeepFocusButton type="button" class="btn" off={!dirty || busy} disabled={!!disabled} onClick={() => (setForm(saved), setErrors({}), setTopError(null))}>
          Revert
        </KeepFocusButton>
        <span class="muted small" aria-live="polite" data-testid="dirty-state">
          {dirty ? 'Unsaved changes' : 'All changes saved'}
        </span>
      </div>
    </form>
  );
}

const val = (e: Event) => (e.target as HTMLInputElement).value;

/** The position in words, for the live region (the panel shows the same with markup). */
function positionWords(position: PlanPosition | null, config: ResponseConfig): string | null {
  if (!position) return null;
  if (config.plan.length === 0) return 'No plan: every request gets the default response (unless a rule matches).';
  if (position.exhausted) return 'The plan is finished: every request now gets the default response.';
  const step = config.plan[position.step];
  const times = step?.times ?? 1;
  return `Next matching request meets step ${position.step + 1} of ${config.plan.length}${step ? ` (${describeStep(step, config.default)})` : ''}${times > 1 ? `, ${position.usedInStep} of ${times} used` : ''}.`;
}

function PositionPanel({ position, config, onReset, disabled }: { position: PlanPosition | null; config: ResponseConfig; onReset: () => void; disabled: boolean }) {
  let text: ComponentChildren;
  if (!position) text = '…';
  else if (config.plan.length === 0 || position.exhausted) text = positionWords(position, config);
  else {
    const step = config.plan[position.step];
    const times = step?.times ?? 1;
    text = (
      <>
        Next matching request meets <strong>step {position.step + 1}</strong> of {config.plan.length}
        {step ? ` (${describeStep(step, config.default)})` : ''}
        {times > 1 ? `, ${position.usedInStep} of ${times} used` : ''}.
      </>
    );
  }
  // Not a live region itself: a busy bin moves it with every capture, and each move was read
  // out. Its changes are told at a calm pace instead, the latest when one is due; the first
  // load is not news.
  const words = positionWords(position, config);
  const lastSaid = useRef<string | null>(null);
  const [said, announce] = useAnnouncer(() => {
    if (words === null || words === lastSaid.current) return null;
    lastSaid.current = words;
    return words;
  });
  useEffect(() => {
    if (words === null) return;
    if (lastSaid.current === null) lastSaid.current = words;
    else if (words !== lastSaid.current) announce();
  }, [words]);
  return (
    <section class="card position" aria-labelledby="h-position">
      <div>
        <h2 id="h-position">Plan position</h2>
        <p data-testid="plan-position" data-step={position?.step} data-exhausted={position?.exhausted ? 'true' : 'false'} data-consumed={position?.consumed}>
          {text}
        </p>
        {position && config.plan.length > 0 && <p class="muted small">{position.consumed} request(s) went through the plan since the last reset or save.</p>}
        <Announcer said={said} testId="position-announcer" />
      </div>
      <button type="button" class="btn" onClick={onReset} disabled={disabled} data-testid="reset-plan">
        Reset plan
      </button>
    </section>
  );
}

interface StepProps {
  list: 'plan' | 'rules';
  index: number;
  step: StepForm;
  count: number;
  current: boolean;
  used: number;
  errors: FieldErrors;
  /** A step without a status answers with the default's. */
  defaultStatus: string;
  onChange: (patch: Partial<StepForm>) => void;
  onMove: (d: -1 | 1) => void;
  onRemove: () => void;
}

function StepEditor({ list, index, step, count, current, used, errors, defaultStatus, onChange, onMove, onRemove }: StepProps) {
  const base = `${list}[${index}]`;
  const e = (k: string) => errors[k ? `${base}.${k}` : base];
  const isPlan = list === 'plan';
  const fault = step.kind !== 'respond';
  const moreErrors = ['body', 'contentType', 'headers', 'match', 'match.method', 'match.pathPrefix', 'match.header', 'match.header.value', 'match.json', 'match.json.equals'].some((k) => e(k));
  const noun = isPlan ? 'Step' : 'Rule';
  return (
    <li class={`step${current ? ' current' : ''}`} data-field={base} data-testid={`${list}-step`} data-index={index} aria-current={current ? 'step' : undefined} {...groupError(`${base}-err`, e(''), `${base}-name`)}>
      <div class="step-head">
        <strong id={`${base}-name`}>
          {noun} {index + 1}
        </strong>
        {current && (
          <span class="badge tone-info" data-testid="current-step">
            next{step.times && Number(step.times) > 1 ? ` · ${used} used` : ''}
          </span>
        )}
        <span class="spacer" />
        <button type="button" class="btn btn-small" onClick={() => onMove(-1)} disabled={index === 0} aria-label={`Move ${noun.toLowerCase()} ${index + 1} up`}>
          ↑
        </button>
        <button type="button" class="btn btn-small" onClick={() => onMove(1)} disabled={index === count - 1} aria-label={`Move ${noun.toLowerCase()} ${index + 1} down`}>
          ↓
        </button>
        <button type="button" class="btn btn-small" onClick={onRemove} aria-label={`Remove ${noun.toLowerCase()} ${index + 1}`}>
          ✕
        </button>
      </div>
      {e('') && <FieldError id={`${base}-err`} message={e('')!} />}
      <div class="grid-fields">
        <Field label="Answer" slot={`${base}.fault`} error={e('fault')}>
          {(a) => (
            <select {...a} value={step.kind} onChange={(ev) => onChange({ kind: val(ev) as StepForm['kind'] })} data-testid="step-kind">
              <option value="respond">Respond</option>
              <option value="timeout">Hang (never answer)</option>
              <option value="reset">Reset the connection</option>
            </select>
          )}
        </Field>
        {!fault && (
          <Field label="Status" slot={`${base}.status`} error={e('status')}>
            {(a) => <input {...a} inputMode="numeric" class="in-short" value={step.status} placeholder="default" onInput={(ev) => onChange({ status: val(ev) })} data-testid="step-status" />}
          </Field>
        )}
        {isPlan && (
          <Field label="Times" slot={`${base}.times`} error={e('times')}>
            {(a) => <input {...a} inputMode="numeric" class="in-short" value={step.times} placeholder="1" onInput={(ev) => onChange({ times: val(ev) })} data-testid="step-times" />}
          </Field>
        )}
        {isPlan && (
          <Field label="Chance (%)" slot={`${base}.probability`} error={e('probability')}>
            {(a) => <input {...a} inputMode="decimal" class="in-short" value={step.probability} placeholder="100" onInput={(ev) => onChange({ probability: val(ev) })} data-testid="step-probability" />}
          </Field>
        )}
        <Field label="Delay (ms)" slot={`${base}.delayMs`} error={e('delayMs')}>
          {(a) => <input {...a} inputMode="numeric" class="in-short" value={step.delayMs} placeholder="0" onInput={(ev) => onChange({ delayMs: val(ev) })} data-testid="step-delay" />}
        </Field>
      </div>
      <details open={moreErrors || !!(step.body || step.headers || step.contentType || step.matchMethod || step.matchPathPrefix || step.matchHeaderName || step.matchJsonPath)}>
        <summary>Body, headers and which requests it applies to</summary>
        <div class="grid-fields">
          {!fault && (
            <Field label="Body" slot={`${base}.body`} error={e('body')} wide hint={bodyNotSentHint(step.status || defaultStatus, step.body)}>
              {(a) => <textarea {...a} rows={2} class="mono" value={step.body} placeholder="(the status text, or the default body when no status is set)" onInput={(ev) => onChange({ body: val(ev) })} />}
            </Field>
          )}
          {!fault && (
            <Field label="Content type" slot={`${base}.contentType`} error={e('contentType')} wide>
              {(a) => <input {...a} value={step.contentType} placeholder="text/plain; charset=utf-8" onInput={(ev) => onChange({ contentType: val(ev) })} />}
            </Field>
          )}
          {!fault && (
            <Field label="Headers (“Name: value” per line)" slot={`${base}.headers`} error={e('headers')} wide>
              {(a) => <textarea {...a} rows={2} class="mono" value={step.headers} placeholder="Retry-After: 120" onInput={(ev) => onChange({ headers: val(ev) })} />}
            </Field>
          )}
          <Field label="Only method" slot={`${base}.match.method`} error={e('match.method') ?? e('match')}>
            {(a) => <input {...a} class="in-short" value={step.matchMethod} placeholder="any" onInput={(ev) => onChange({ matchMethod: val(ev) })} />}
          </Field>
          <Field label="Only paths starting with" slot={`${base}.match.pathPrefix`} error={e('match.pathPrefix')}>
            {(a) => <input {...a} value={step.matchPathPrefix} placeholder="/" onInput={(ev) => onChange({ matchPathPrefix: val(ev) })} />}
          </Field>
          <Field label="Only with header" slot={`${base}.match.header`} error={e('match.header')}>
            {(a) => <input {...a} value={step.matchHeaderName} placeholder="X-Event" onInput={(ev) => onChange({ matchHeaderName: val(ev) })} />}
          </Field>
          <Field label="…equal to" slot={`${base}.match.header.value`} error={e('match.header.value')}>
            {(a) => <input {...a} value={step.matchHeaderValue} onInput={(ev) => onChange({ matchHeaderValue: val(ev) })} />}
          </Field>
          <Field label="Only with JSON field" slot={`${base}.match.json`} error={e('match.json')}>
            {(a) => <input {...a} class="mono" value={step.matchJsonPath} placeholder="event" onInput={(ev) => onChange({ matchJsonPath: val(ev) })} data-testid="step-json-path" />}
          </Field>
          <Field label="…equal to" slot={`${base}.match.json.equals`} error={e('match.json.equals')}>
            {(a) => <input {...a} class="mono" value={step.matchJsonEquals} placeholder="sync_end" onInput={(ev) => onChange({ matchJsonEquals: val(ev) })} data-testid="step-json-equals" />}
          </Field>
        </div>
      </details>
    </li>
  );
}
