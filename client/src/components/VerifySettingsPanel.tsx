// Signature checks for a bin: the schemes its senders sign with (type, secrets, tolerance,
// the HMAC details of any other sender) and where the idempotency key is read. Secrets are
// write-only: saved ones show as their last characters and length only, and are kept on save
// unless removed (named by where they were in the loaded settings: see lib/verify-keep.ts), so
// an edit needs no secret typed again. Saved with If-Match; every refused field is marked at once.
import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { SaveBar } from './SaveBar.tsx';
import type { SchemeTypeT, VerifyPutAnswerT, VerifySettingsViewT } from '../../../shared/schema/verify.ts';
import { ApiError, api, isNotFound } from '../lib/api.ts';
import { type FieldErrors, clearSlot, focusFirstError, placeErrors, slotOfEvent } from '../lib/field-errors.ts';
import { useError } from '../lib/use-error.ts';
import { useRowFocus } from '../lib/use-row-focus.ts';
import { settingsChanges, useSettingsSync } from '../lib/use-settings-sync.ts';
import { SCHEME_LABELS, SCHEME_TYPES, hasTolerance, verifySlots } from '../lib/verify-form.ts';
import {
  KEEP_MINE_WITH_KEPT,
  type KeepForm,
  type KeepSchemeForm,
  describeKeepError,
  describeKept,
  formToPut,
  keepsAny,
  keptIndexes,
  newScheme,
  noSecretsMessage,
  otherTypeNote,
  savedForOtherType,
  viewToKeepForm,
  withType,
} from '../lib/verify-keep.ts';
import { Field, FieldError, groupError, inputValue } from './Field.tsx';
import { SettingsConflict } from './SettingsConflict.tsx';

const MAX_SCHEMES = 10;

export function VerifySettingsPanel({ binId, disabled }: { binId: string; disabled?: boolean }) {
  const [form, setForm] = useState<KeepForm | null>(null);
  const [saved, setSaved] = useState<KeepForm | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [topError, setTopError] = useError();
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** What the last save's re-check did: how many, or why it did not run through. */
  const rechecked = useRef<number | string | null>(null);
  const formEl = useRef<HTMLFormElement>(null);
  const dirty = useMemo(() => JSON.stringify(form) !== JSON.stringify(saved), [form, saved]);
  const dirtyNow = useRef(false);
  dirtyNow.current = dirty;
  /** Where the keyboard goes once the rows change: a scheme's Sender, or "+ Add" (see useRowFocus). */
  const { next: focusNext, addBtn } = useRowFocus(formEl, '[data-testid="scheme-type"]');
  /** A scheme just moved: the keyboard follows it, to its button of the same way (else the other way's). */
  const moved = useRef<{ index: number; d: -1 | 1 } | null>(null);
  useLayoutEffect(() => {
    const m = moved.current;
    if (!m) return;
    moved.current = null;
    const row = formEl.current?.querySelector(`[data-testid="scheme"][data-index="${m.index}"]`);
    const way = (d: -1 | 1) => row?.querySelector<HTMLElement>(`[data-move="${d < 0 ? 'up' : 'down'}"]`);
    (way(m.d) ?? way(m.d < 0 ? 1 : -1))?.focus();
  });

  // No `same` option: a 412 is never retried under the newer ETag, since the kept secrets are
  // named by where they were in the revision this form loaded (see verify-keep.ts).
  const sync = useSettingsSync<VerifySettingsViewT & Partial<Pick<VerifyPutAnswerT, 'rechecked' | 'recheckError'>>>(binId, {
    load: () => api.getVerify(binId),
    apply: (v) => {
      const f = viewToKeepForm(v);
      rechecked.current = v.recheckError ? v.recheckError : (v.rechecked ?? null);
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
    if (busy) return; // Enter in a field while Save is off (it keeps the focus: SaveBar's busy)
    setStatus(null);
    setTopError(null);
    // "Keep mine" saves over a newer revision, whose secrets may sit elsewhere: a kept secret
    // named by its place in the older one could be another secret there. Refused here, before
    // the sync takes the newer ETag as the form's.
    if (keep && keepsAny(form)) {
      setTopError(KEEP_MINE_WITH_KEPT);
      return;
    }
    setBusy(true);
    try {
      const write = (ifMatch: string | null) => api.putVerify(binId, formToPut(form), ifMatch);
      const ok = keep ? await sync.keepMine(write) : await sync.save(write);
      if (ok) {
        const n = rechecked.current;
        if (typeof n === 'string') setStatus(`Saved, and new captures are checked under these settings; but ${n}.`);
        else setStatus(`Saved.${n !== null ? ` ${n} stored capture${n === 1 ? ' was' : 's were'} checked again under these settings.` : ''}`);
      }
    } catch (err) {
      if (err instanceof ApiError && err.fields.length) {
        const { errors: placed, rest } = placeErrors(err.fields, verifySlots(form), undefined, describeKeepError(form));
        // A saved scheme sent without secrets: the server's "must list at least one" does not say why.
        form.schemes.forEach((s, i) => {
          const why = noSecretsMessage(s);
          if (why && placed[`schemes[${i}].secrets`]) placed[`schemes[${i}].secrets`] = why;
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

  const setScheme = (i: number, patch: Partial<KeepSchemeForm>) => setForm({ ...form, schemes: form.schemes.map((s, j) => (j === i ? { ...s, ...patch } : s)) });
  const moveScheme = (i: number, d: -1 | 1) => {
    const j = i + d;
    if (j < 0 || j >= form.schemes.length) return;
    const schemes = [...form.schemes];
    [schemes[i], schemes[j]] = [schemes[j], schemes[i]];
    moved.current = { index: j, d };
    setForm({ ...form, schemes });
    // Marks were placed by index: they would now sit on the other scheme.
    setErrors({});
  };
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
      <div data-field="schemes" role="group" aria-label="Schemes" {...groupError('err-schemes', errors.schemes)}>
        {errors.schemes && <FieldError id="err-schemes" message={errors.schemes} />}
        {form.schemes.length === 0 && <p class="muted">No schemes: captures are not checked.</p>}
        <ol class="schemes">
          {form.schemes.map((s, i) => (
            <SchemeEditor
              key={i}
              index={i}
              count={form.schemes.length}
              s={s}
              errors={errors}
              onChange={(p) => setScheme(i, p)}
              onKeep={(j, keep) => {
                setScheme(i, { keep: s.keep.map((k, n) => (n === j ? keep : k)) });
                setErrors((cur) => clearSlot(cur, `schemes[${i}].secrets`));
              }}
              onMove={(d) => moveScheme(i, d)}
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
            setForm({ ...form, schemes: [...form.schemes, newScheme()] });
          }}
          disabled={form.schemes.length >= MAX_SCHEMES}
          data-testid="add-scheme"
        >
          + Add scheme
        </button>
      </div>
      <fieldset class="idempotency" data-field="idempotency" {...groupError('err-idempotency', errors.idempotency)}>
        <legend>Idempotency key</legend>
        <p class="muted small">Read from webhook-id, svix-id, X-GitHub-Delivery, X-Shopify-Webhook-Id or a Stripe event id by itself; name another header or JSON field here.</p>
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
      <SaveBar name="verify" status={status} topError={topError} locked={locked} busy={busy} dirty={dirty} onRevert={() => (setForm(saved), setErrors({}), setTopError(null))} />
    </form>
  );
}

interface SchemeProps {
  index: number;
  count: number;
  s: KeepSchemeForm;
  errors: FieldErrors;
  onChange: (p: Partial<KeepSchemeForm>) => void;
  /** Keep the saved secret `saved[j]`, or remove it on save. */
  onKeep: (j: number, keep: boolean) => void;
  onMove: (d: -1 | 1) => void;
  onRemove: () => void;
}

function SchemeEditor({ index, count, s, errors, onChange, onKeep, onMove, onRemove }: SchemeProps) {
  const base = `schemes[${index}]`;
  const e = (k: string) => errors[`${base}.${k}`];
  const otherType = savedForOtherType(s);
  const kept = keptIndexes(s).length;
  // Secrets typed are drawn as dots unless asked for (a shared screen, a demo), as a password is.
  const [showSecrets, setShowSecrets] = useState(false);
  return (
    <li class="scheme card-inner" data-field={base} data-testid="scheme" data-index={index} {...groupError(`${base}-err`, errors[base], `${base}-name`)}>
      <div class="step-head">
        <strong id={`${base}-name`}>Scheme {index + 1}</strong>
        <span class="spacer" />
        {/* Only the ways a scheme can go (a disabled first button would be where Tab cannot land). */}
        {index > 0 && (
          <button type="button" class="btn btn-small" onClick={() => onMove(-1)} aria-label={`Move scheme ${index + 1} up`} data-move="up">
            ↑
          </button>
        )}
        {index < count - 1 && (
          <button type="button" class="btn btn-small" onClick={() => onMove(1)} aria-label={`Move scheme ${index + 1} down`} data-move="down">
            ↓
          </button>
        )}
        <button type="button" class="btn btn-small" onClick={onRemove} aria-label={`Remove scheme ${index + 1}`}>
          ✕
        </button>
      </div>
      {errors[base] && <FieldError id={`${base}-err`} message={errors[base]} />}
      <div class="grid-fields">
        <Field label="Sender" slot={`${base}.type`} error={e('type')}>
          {(a) => (
            <select {...a} value={s.type} onChange={(ev) => onChange(withType(s, inputValue(ev) as SchemeTypeT))} data-testid="scheme-type">
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
        {s.saved.length > 0 && !otherType && (
          <div class="field wide" data-testid="kept-secrets">
            <span class="label" id={`${base}-kept-label`}>
              Saved secrets (kept on save unless removed)
            </span>
            <ul class="plain" aria-labelledby={`${base}-kept-label`}>
              {s.saved.map((h, j) => (
                <li key={j} class="row" data-testid="kept-secret" data-state={s.keep[j] ? 'kept' : 'removed'}>
                  {s.keep[j] ? (
                    <>
                      <span class="mono">{describeKept(h)}</span>
                      <button type="button" class="btn btn-small" onClick={() => onKeep(j, false)} aria-label={`Remove saved secret ${j + 1} of scheme ${index + 1}`} data-testid="remove-kept">
                        Remove
                      </button>
                    </>
                  ) : (
                    <>
                      <span class="muted">
                        <s class="mono">{describeKept(h)}</s>: removed on save
                      </span>
                      <button type="button" class="btn btn-small" onClick={() => onKeep(j, true)} aria-label={`Keep saved secret ${j + 1} of scheme ${index + 1}`} data-testid="keep-kept">
                        Keep
                      </button>
                    </>
                  )}
                </li>
              ))}
            </ul>
          </div>
        )}
        {otherType && (
          <div class="field wide">
            <p class="notice notice-warn small" data-testid="kept-dropped">
              {otherTypeNote(s)}
            </p>
          </div>
        )}
        <Field
          label={kept ? 'Add secrets (one per line)' : 'Secrets (one per line; several during a key rotation)'}
          slot={`${base}.secrets`}
          error={e('secrets')}
          wide
          hint={kept ? 'For a key rotation, add the new secret here; remove the old one once senders sign with the new one.' : undefined}
        >
          {(a) => (
            <div class="secret-box">
              <textarea
                {...a}
                rows={2}
                class={showSecrets ? 'mono' : 'mono secret-masked'}
                value={s.secrets}
                spellcheck={false}
                autocomplete="off"
                placeholder={s.type === 'standard-webhooks' || s.type === 'stripe' ? 'whsec_…' : 'the signing secret'}
                onInput={(ev) => onChange({ secrets: inputValue(ev) })}
                data-testid="scheme-secrets"
              />
              <button
                type="button"
                class="btn btn-small"
                aria-pressed={showSecrets}
                aria-label={`Show the secrets typed for scheme ${index + 1}`}
                onClick={() => setShowSecrets(!showSecrets)}
                data-testid="show-secrets"
              >
                {showSecrets ? 'Hide' : 'Show'}
              </button>
            </div>
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
