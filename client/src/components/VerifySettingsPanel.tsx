// Signature checks for a bin: the schemes its senders sign with (type, secrets, tolerance,
// the HMAC details of any other sender) and where the idempotency key is read. Secrets are
// write-only: saved ones show as their last characters and length only. Saved with If-Match;
// every refused field is marked at once.
import { useMemo, useRef, useState } from 'preact/hooks';
import { SaveBar } from './SaveBar.tsx';
import type { SchemeTypeT, VerifySettingsViewT } from '../../../shared/schema/verify.ts';
import { ApiError, api, isNotFound } from '../lib/api.ts';
import { type FieldErrors, clearSlot, focusFirstError, placeErrors, slotOfEvent } from '../lib/field-errors.ts';
import { useError } from '../lib/use-error.ts';
import { useRowFocus } from '../lib/use-row-focus.ts';
import { settingsChanges, useSettingsSync } from '../lib/use-settings-sync.ts';
import {
  RETYPE_SECRETS,
  SCHEME_LABELS,
  SCHEME_TYPES,
  type SchemeForm,
  type VerifyForm,
  describeHint,
  describeVerifyError,
  emptyScheme,
  formToSettings,
  hasTolerance,
  typedSecrets,
  verifySlots,
  viewToForm,
} from '../lib/verify-form.ts';
import { Field, FieldError, inputValue } from './Field.tsx';
import { SettingsConflict } from './SettingsConflict.tsx';

const MAX_SCHEMES = 10;

export function VerifySettingsPanel({ binId, disabled }: { binId: string; disabled?: boolean }) {
  const [form, setForm] = useState<VerifyForm | null>(null);
  const [saved, setSaved] = useState<VerifyForm | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [topError, setTopError] = useError();
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const rechecked = useRef<number | null>(null);
  const formEl = useRef<HTMLFormElement>(null);
  const dirty = useMemo(() => JSON.stringify(form) !== JSON.stringify(saved), [form, saved]);
  const dirtyNow = useRef(false);
  dirtyNow.current = dirty;
  /** Where the keyboard goes once the rows change: a scheme's Sender, or "+ Add" (see useRowFocus). */
  const { next: focusNext, addBtn } = useRowFocus(formEl, '[data-testid="scheme-type"]');

  const sync = useSettingsSync<VerifySettingsViewT & { rechecked?: number }>(binId, {
    load: () => api.getVerify(binId),
    apply: (v) => {
      const f = viewToForm(v);
      rechecked.current = v.rechecked ?? null;
      setForm(f);
      setSaved(f);
      setErrors({});
    },
    dirty: () => dirtyNow.current,
    subscribe: settingsChanges(binId, 'verify'),
    onLoadError: (err) => setTopError(isNotFound(err) ? 'Could not load the signature settings: the bin was deleted.' : err),
  });

  if (!form) return topError ? <p class="notice notice-bad" role="alert">{topError}</p> : <p class="muted">Loading signature settings…</p>;

  const save = async (e?: Event, keep = false) => {
    e?.preventDefault();
    setStatus(null);
    setTopError(null);
    setBusy(true);
    try {
      const write = (ifMatch: string | null) => api.putVerify(binId, formToSettings(form), ifMatch);
      const ok = keep ? await sync.keepMine(write) : await sync.save(write);
      if (ok) {
        const n = rechecked.current;
        setStatus(`Saved.${n !== null ? ` ${n} stored capture${n === 1 ? ' was' : 's were'} checked again under these settings.` : ''}`);
      }
    } catch (err) {
      if (err instanceof ApiError && err.fields.length) {
        const { errors: placed, rest } = placeErrors(err.fields, verifySlots(form), undefined, describeVerifyError(form));
        // A saved scheme sent without secrets: the server's "must list at least one" does not say why.
        form.schemes.forEach((s, i) => {
          if (s.saved.length && !typedSecrets(s).length && placed[`schemes[${i}].secrets`]) placed[`schemes[${i}].secrets`] = RETYPE_SECRETS;
        });
        setErrors(placed);
        const n = Object.keys(placed).length;
        setTopError(rest.length ? rest.join('; ') : `The server did not accept these settings: see the ${n === 1 ? 'highlighted field' : `${n} highlighted fields`}.`);
        focusFirstError(formEl.current ?? document);
      } else setTopError(err);
    } finally {
      setBusy(false);
    }
  };

  const setScheme = (i: number, patch: Partial<SchemeForm>) => setForm({ ...form, schemes: form.schemes.map((s, j) => (j === i ? { ...s, ...patch } : s)) });
  const onEdit = (e: Event) => setErrors((cur) => clearSlot(cur, slotOfEvent(e)));
  const locked = busy || !!disabled;

  return (
    <form class="card settings-panel" onSubmit={save} onInput={onEdit} onChange={onEdit} noValidate data-testid="verify-panel" ref={formEl} aria-labelledby="h-verify">
      <h2 id="h-verify">Signatures</h2>
      <p class="muted small">
        Each capture is checked against these schemes: the list shows a valid / invalid / unsigned / expired badge, and the detail explains a failure (what was
        signed, what each secret gives, what arrived). Saving checks the stored captures again.
      </p>
      <SettingsConflict sync={sync} onKeepMine={() => save(undefined, true)} onError={setTopError} />
      <div data-field="schemes">
        {errors.schemes && <FieldError id="err-schemes" message={errors.schemes} />}
        {form.schemes.length === 0 && <p class="muted">No schemes: captures are not checked.</p>}
        <ol class="schemes">
          {form.schemes.map((s, i) => (
            <SchemeEditor
              key={i}
              index={i}
              s={s}
              errors={errors}
              onChange={(p) => setScheme(i, p)}
              onRemove={() => {
                // Its ✕ goes away with it: on to the next scheme, else "+ Add scheme".
                focusNext.current = i < form.schemes.length - 1 ? i : 'add';
                setForm({ ...form, schemes: form.schemes.filter((_, j) => j !== i) });
              }}
            />
          ))}
        </ol>
        <button
          type="button"
          class="btn"
          ref={addBtn}
          onClick={() => {
            focusNext.current = form.schemes.length;
            setForm({ ...form, schemes: [...form.schemes, emptyScheme()] });
          }}
          disabled={form.schemes.length >= MAX_SCHEMES}
          data-testid="add-scheme"
        >
          + Add scheme
        </button>
      </div>
      <fieldset class="idempotency" data-field="idempotency">
        <legend>Idempotency key</legend>
        <p class="muted small">Read from webhook-id, svix-id, X-GitHub-Delivery or a Stripe event id by itself; name another header or JSON field here.</p>
        {errors.idempotency && <FieldError id="err-idempotency" message={errors.idempotency} />}
        <div class="grid-fields">
          <Field label="Header" slot="idempotency.header" error={errors['idempotency.header']}>
            {(a) => <input {...a} class="mono" value={form.idemHeader} placeholder="Idempotency-Key" onInput={(e) => setForm({ ...form, idemHeader: inputValue(e) })} data-testid="idem-header" />}
          </Field>
          <Field label="JSON field" slot="idempotency.jsonPath" error={errors['idempotency.jsonPath']}>
            {(a) => <input {...a} class="mono" value={form.idemJsonPath} placeholder="data.event_id" onInput={(e) => setForm({ ...form, idemJsonPath: inputValue(e) })} data-testid="idem-json-path" />}
          </Field>
        </div>
      </fieldset>
      <SaveBar name="verify" status={status} topError={topError} locked={locked} dirty={dirty} onRevert={() => (setForm(saved), setErrors({}), setTopError(null))} />
    </form>
  );
}

function SchemeEditor({ index, s, errors, onChange, onRemove }: { index: number; s: SchemeForm; errors: FieldErrors; onChange: (p: Partial<SchemeForm>) => void; onRemove: () => void }) {
  const base = `schemes[${index}]`;
  const e = (k: string) => errors[`${base}.${k}`];
  return (
    <li class="scheme card-inner" data-field={base} data-testid="scheme" data-index={index}>
      <div class="step-head">
        <strong>Scheme {index + 1}</strong>
        <span class="spacer" />
        <button type="button" class="btn btn-small" onClick={onRemove} aria-label={`Remove scheme ${index + 1}`}>
          ✕
        </button>
      </div>
      {errors[base] && <FieldError id={`${base}-err`} message={errors[base]} />}
      <div class="grid-fields">
        <Field label="Sender" slot={`${base}.type`} error={e('type')}>
          {(a) => (
            <select {...a} value={s.type} onChange={(ev) => onChange({ ...emptyScheme(inputValue(ev) as SchemeTypeT), saved: s.saved, secrets: s.secrets })} data-testid="scheme-type">
              {SCHEME_TYPES.map((t) => (
                <option key={t} value={t}>
                  {SCHEME_LABELS[t]}
                </option>
              ))}
            </select>
          )}
        </Field>
        {hasTolerance(s) && (
          <Field label="Tolerance (s)" slot={`${base}.toleranceSec`} error={e('toleranceSec')}>
            {(a) => <input {...a} inputMode="numeric" class="in-short" value={s.toleranceSec} placeholder="300" onInput={(ev) => onChange({ toleranceSec: inputValue(ev) })} data-testid="scheme-tolerance" />}
          </Field>
        )}
        <Field
          label={s.saved.length ? 'Secrets (type them again to save; one per line)' : 'Secrets (one per line; several during a key rotation)'}
          slot={`${base}.secrets`}
          error={e('secrets')}
          wide
          hint={s.saved.length ? `Saved: ${s.saved.map((h, j) => `#${j + 1} ${describeHint(h)}`).join(', ')}` : undefined}
        >
          {(a) => (
            <textarea
              {...a}
              rows={2}
              class="mono"
              value={s.secrets}
              spellcheck={false}
              autocomplete="off"
              placeholder={s.type === 'standard-webhooks' || s.type === 'stripe' ? 'whsec_…' : 'the signing secret'}
              onInput={(ev) => onChange({ secrets: inputValue(ev) })}
              data-testid="scheme-secrets"
            />
          )}
        </Field>
        {s.type === 'hmac' && (
          <>
            <Field label="Signature header" slot={`${base}.header`} error={e('header')}>
              {(a) => <input {...a} class="mono" value={s.header} onInput={(ev) => onChange({ header: inputValue(ev) })} data-testid="scheme-header" />}
            </Field>
            <Field label="Algorithm" slot={`${base}.algorithm`} error={e('algorithm')}>
              {(a) => (
                <select {...a} value={s.algorithm} onChange={(ev) => onChange({ algorithm: inputValue(ev) })}>
                  {['sha1', 'sha256', 'sha512'].map((x) => (
                    <option key={x}>{x}</option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Written as" slot={`${base}.encoding`} error={e('encoding')}>
              {(a) => (
                <select {...a} value={s.encoding} onChange={(ev) => onChange({ encoding: inputValue(ev) })}>
                  <option value="hex">hex</option>
                  <option value="base64">base64</option>
                </select>
              )}
            </Field>
            <Field label="Prefix" slot={`${base}.prefix`} error={e('prefix')}>
              {(a) => <input {...a} class="mono in-medium" value={s.prefix} placeholder="sha256=" onInput={(ev) => onChange({ prefix: inputValue(ev) })} data-testid="scheme-prefix" />}
            </Field>
            <Field label="Signed" slot={`${base}.signed`} error={e('signed')}>
              {(a) => (
                <select {...a} value={s.signed} onChange={(ev) => onChange({ signed: inputValue(ev) })} data-testid="scheme-signed">
                  <option value="body">the body</option>
                  <option value="timestamp+body">timestamp, separator, body</option>
                </select>
              )}
            </Field>
            {s.signed === 'timestamp+body' && (
              <>
                <Field label="Timestamp header" slot={`${base}.timestampHeader`} error={e('timestampHeader')}>
                  {(a) => <input {...a} class="mono" value={s.timestampHeader} placeholder="X-Timestamp" onInput={(ev) => onChange({ timestampHeader: inputValue(ev) })} data-testid="scheme-timestamp-header" />}
                </Field>
                <Field label="Separator" slot={`${base}.separator`} error={e('separator')}>
                  {(a) => <input {...a} class="mono in-short" value={s.separator} placeholder="." onInput={(ev) => onChange({ separator: inputValue(ev) })} />}
                </Field>
              </>
            )}
          </>
        )}
      </div>
    </li>
  );
}
