// One webhook, as on the article's settings page: name, URL (or one of our bins), enable
// switch, event checkboxes, signing secret, Test with the result shown, Save. Saves send the
// revision the form was loaded from (If-Match): a change made elsewhere reloads an untouched
// form, and shows a conflict instead of being overwritten when the form holds edits. Every
// field the server refuses is marked in place at once.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Bin, Subscription, TestResult, Webhook, WebhookInput } from '../../../shared/api.ts';
import { SCHEDULE_PRESETS } from '../../../shared/api.ts';
import { ApiError, api } from '../lib/api.ts';
import { type FieldErrors, clearSlot, focusFirstError, placeErrors, slotOfEvent } from '../lib/field-errors.ts';
import { formatClock, formatDate, formatDuration } from '../lib/format.ts';
import { Link, paths } from '../lib/router.ts';
import { generateSecret, isValidSecret } from '../lib/secret.ts';
import { useFocusAfter } from '../lib/use-focus-after.ts';
import { KeepFocusButton } from './KeepFocusButton.tsx';
import { useError } from '../lib/use-error.ts';
import { useSettingsSync } from '../lib/use-settings-sync.ts';
import { ConfirmButton } from './ConfirmButton.tsx';
import { CopyButton } from './CopyButton.tsx';
import { SettingsConflict } from './SettingsConflict.tsx';

const EVENTS: { id: Subscription; label: string; hint: string }[] = [
  { id: 'flow_started', label: 'Flow started', hint: 'sync_start' },
  { id: 'flow_succeeded', label: 'Flow succeeded', hint: 'sync_end, SUCCESSFUL' },
  { id: 'flow_failed', label: 'Flow failed', hint: 'sync_end, FAILED' },
];

/** Fields that show a server message in place; anything else is shown under the form. */
const SLOTS = [
  'name', 'url', 'enabled', 'events', 'secret', 'successPolicy', 'schedule', 'schedule.preset', 'schedule.delaysMs', 'schedule.firstDelayMs', 'schedule.factor', 'schedule.jitter', 'schedule.deadlineMs', 'timeoutMs',
  'behaviors', 'behaviors.abortHeader', 'behaviors.disableAfterDays', 'behaviors.disableAfterDeliveries',
];
const ADVANCED = SLOTS.filter((k) => k.startsWith('schedule') || k.startsWith('behaviors') || k === 'timeoutMs' || k === 'successPolicy');

interface Props {
  webhook: Webhook | null;
  bins: Bin[];
  onSaved: (w: Webhook) => void;
  /** `cancelling`: its pending deliveries left to end once their attempt under way is recorded. */
  onDeleted?: (id: string, cancelling: number) => void;
  onCancel?: () => void;
  /** Turned off: how many of its pending deliveries are being cancelled (each waits for its attempt under way). */
  cancelling?: number;
  onBinCreated?: (b: Bin) => void;
  /** The bin picker is about to open: bins made since the page loaded should be in it. */
  onBinsWanted?: () => void;
}

type SecretState = { mode: 'keep' } | { mode: 'new'; value: string } | { mode: 'remove' };

/** The form as typed: strings, converted on save (the server names what it refuses). */
interface WebhookFormState {
  name: string;
  url: string;
  enabled: boolean;
  events: Subscription[];
  successPolicy: '200' | '2xx';
  timeoutMs: string;
  sched: { firstDelayMs: string; factor: string; jitter: string; deadlineMs: string; preset: string; delaysMs: string };
  beh: { retryAfter: boolean; disableOn410: boolean; abortHeader: string; disableAfterDays: string; disableAfterDeliveries: string };
}

function toForm(w: Webhook | null): WebhookFormState {
  return {
    name: w?.name ?? '',
    url: w?.url ?? '',
    enabled: w?.enabled ?? true,
    events: w?.events ?? ['flow_started', 'flow_succeeded', 'flow_failed'],
    successPolicy: w?.successPolicy ?? '200',
    timeoutMs: w?.timeoutMs == null ? '' : String(w.timeoutMs),
    sched: {
      firstDelayMs: str(w?.schedule.firstDelayMs),
      factor: str(w?.schedule.factor),
      jitter: str(w?.schedule.jitter),
      deadlineMs: str(w?.schedule.deadlineMs),
      preset: w?.schedule.preset ?? (w?.schedule.delaysMs ? 'list' : ''),
      delaysMs: w?.schedule.delaysMs?.join(', ') ?? '',
    },
    beh: {
      retryAfter: w?.behaviors.retryAfter ?? false,
      disableOn410: w?.behaviors.disableOn410 ?? false,
      abortHeader: w?.behaviors.abortHeader ?? '',
      disableAfterDays: str(w?.behaviors.disableAfterDays ?? undefined),
      disableAfterDeliveries: str(w?.behaviors.disableAfterDeliveries ?? undefined),
    },
  };
}

/** The settings a person edits (the ETag also covers the failure streak, which moves by itself). */
const settingsOf = (w: Webhook) =>
  JSON.stringify([w.name, w.url, w.enabled, w.events, w.hasSecret, w.successPolicy, w.schedule, w.behaviors, w.timeoutMs, w.disabledBy]);

export function WebhookForm({ webhook: initial, bins, onSaved, onDeleted, onCancel, onBinCreated, onBinsWanted, cancelling = 0 }: Props) {
  // The revision on screen: the one loaded (or saved) here, not the list's latest.
  const [webhook, setWebhook] = useState<Webhook | null>(initial);
  const [f, setF] = useState<WebhookFormState>(() => toForm(initial));
  const [savedForm, setSavedForm] = useState<WebhookFormState>(() => toForm(initial));
  const [secret, setSecret] = useState<SecretState>({ mode: 'keep' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [message, setMessage] = useState<{ tone: 'ok' | 'bad'; text: string } | null>(null);
  const [failure, setFailure] = useError();
  const [busy, setBusy] = useState(false);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  const [test, setTest] = useState<{ running: boolean; result: TestResult | null; error: string | null }>({ running: false, result: null, error: null });
  const formEl = useRef<HTMLFormElement>(null);
  const focusAfter = useFocusAfter(formEl);
  const idp = initial?.id ?? 'new';

  const dirty = useMemo(() => secret.mode !== 'keep' || JSON.stringify(f) !== JSON.stringify(savedForm), [f, savedForm, secret]);
  const dirtyNow = useRef(false);
  dirtyNow.current = dirty;

  const sync = useSettingsSync<Webhook>(initial?.id ?? '', {
    load: () => (initial ? api.getWebhook(initial.id) : Promise.resolve({ value: null as unknown as Webhook, etag: null })),
    apply: (w, why) => {
      if (!w) return;
      const next = toForm(w);
      setWebhook(w);
      setF(next);
      setSavedForm(next);
      setSecret({ mode: 'keep' });
      setErrors({});
      if (why === 'saved') onSaved(w);
    },
    dirty: () => dirtyNow.current,
    same: (a, b) => settingsOf(a) === settingsOf(b),
  });

  // The console's list hears of every change (the `webhook` event): one that is not what
  // this form shows was made elsewhere.
  useEffect(() => {
    if (initial && webhook && settingsOf(initial) !== settingsOf(webhook)) sync.changedElsewhere(null);
  }, [initial]);

  const { name, url, enabled, events, successPolicy, timeoutMs, sched, beh } = f;
  const setName = (v: string) => setF((c) => ({ ...c, name: v }));
  const setUrl = (v: string) => setF((c) => ({ ...c, url: v }));
  const setEnabled = (v: boolean) => setF((c) => ({ ...c, enabled: v }));
  const setEvents = (v: Subscription[]) => setF((c) => ({ ...c, events: v }));
  const setSuccessPolicy = (v: '200' | '2xx') => setF((c) => ({ ...c, successPolicy: v }));
  const setTimeoutMs = (v: string) => setF((c) => ({ ...c, timeoutMs: v }));
  const setSched = (v: WebhookFormState['sched']) => setF((c) => ({ ...c, sched: v }));
  const setBeh = (v: WebhookFormState['beh']) => setF((c) => ({ ...c, beh: v }));

  const input = (): { body: WebhookInput; errors: Record<string, string> } => {
    const errs: Record<string, string> = {};
    const body: WebhookInput = { name: name.trim(), url: url.trim(), enabled, events, successPolicy };
    if (!url.trim()) errs.url = 'is required: paste a URL or pick one of your bins';
    if (secret.mode === 'new') {
      if (!isValidSecret(secret.value.trim())) errs.secret = 'must be "whsec_" followed by base64 of 16 to 64 bytes (use Generate)';
      body.secret = secret.value.trim();
    } else if (secret.mode === 'remove') body.secret = null;
    body.timeoutMs = timeoutMs.trim() ? (numOrText(timeoutMs) as number) : null;
    const schedule: Record<string, unknown> = {};
    for (const k of ['firstDelayMs', 'factor', 'jitter', 'deadlineMs'] as const) if (sched[k].trim()) schedule[k] = numOrText(sched[k]);
    if (sched.preset === 'list') {
      // "5000, 300000": numbers for the server to check; anything else goes as typed, to be named.
      const items = sched.delaysMs.split(/[\s,]+/).filter(Boolean);
      schedule.delaysMs = items.map(numOrText);
    } else if (sched.preset) schedule.preset = sched.preset;
    body.schedule = schedule;
    const behaviors: Record<string, unknown> = {};
    if (beh.retryAfter) behaviors.retryAfter = true;
    if (beh.disableOn410) behaviors.disableOn410 = true;
    if (beh.abortHeader.trim()) behaviors.abortHeader = beh.abortHeader.trim();
    if (beh.disableAfterDays.trim()) behaviors.disableAfterDays = numOrText(beh.disableAfterDays);
    if (beh.disableAfterDeliveries.trim()) behaviors.disableAfterDeliveries = numOrText(beh.disableAfterDeliveries);
    body.behaviors = behaviors as WebhookInput['behaviors'];
    return { body, errors: errs };
  };

  const showErrors = (placed: FieldErrors) => {
    setErrors(placed);
    if (ADVANCED.some((k) => placed[k])) setAdvancedOpen(true);
    focusFirstError(formEl.current ?? document);
  };

  const save = async (e?: Event, keep = false) => {
    e?.preventDefault();
    // Enter in a field submits while Save only looks off (it keeps the focus): one at a time.
    if (busy) return;
    const { body, errors: local } = input();
    setMessage(null);
    setFailure(null);
    if (Object.keys(local).length) {
      showErrors(local);
      return;
    }
    setBusy(true);
    try {
      if (webhook) {
        const write = (ifMatch: string | null) => api.updateWebhook(webhook.id, body, ifMatch);
        if (keep ? await sync.keepMine(write) : await sync.save(write)) setMessage({ tone: 'ok', text: 'Saved.' });
      } else {
        const created = await api.createWebhook(body);
        setErrors({});
        setSecret({ mode: 'keep' });
        setMessage({ tone: 'ok', text: 'Webhook created.' });
        onSaved(created.value);
      }
    } catch (err) {
      if (err instanceof ApiError && err.fields.length) {
        const { errors: placed, rest } = placeErrors(err.fields, SLOTS);
        showErrors(placed);
        if (rest.length) setMessage({ tone: 'bad', text: rest.join('; ') });
      } else setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  const runTest = async () => {
    if (!webhook) return;
    setTest({ running: true, result: null, error: null });
    try {
      setTest({ running: false, result: await api.testWebhook(webhook.id), error: null });
    } catch (err) {
      setTest({ running: false, result: null, error: err instanceof Error ? err.message : String(err) });
    }
  };

  const pickBin = async (value: string) => {
    if (value === '__new') {
      try {
        const b = await api.createBin();
        onBinCreated?.(b);
        setUrl(b.url);
        if (!name.trim()) setName(b.name);
      } catch (err) {
        setFailure(err);
      }
    } else if (value) {
      setUrl(value);
    }
  };

  const toggleEvent = (id: Subscription, on: boolean) => setEvents(on ? EVENTS.map((e) => e.id).filter((x) => x === id || events.includes(x)) : events.filter((x) => x !== id));
  const fid = (k: string) => `wh-${idp}-${k}`;
  const fieldErr = (k: string) =>
    errors[k] ? (
      <p class="field-error" id={`${fid(k)}-err`} data-testid="field-error">
        {errors[k]}
      </p>
    ) : null;
  const aria = (k: string) => ({ 'aria-invalid': !!errors[k], 'aria-describedby': errors[k] ? `${fid(k)}-err` : undefined });
  const binForUrl = bins.find((b) => b.url === url.trim());
  // Editing a marked field takes its mark away.
  const onEdit = (e: Event) => setErrors((cur) => clearSlot(cur, slotOfEvent(e)));

  return (
    <form class="card webhook" onSubmit={save} onInput={onEdit} onChange={onEdit} noValidate data-testid="webhook-form" data-webhook-id={webhook?.id} data-loaded={sync.loaded ? 'true' : 'false'} ref={formEl}>
      <div class="webhook-head">
        <h3>{webhook ? webhook.name : 'New webhook'}</h3>
        <label class="switch">
          <input type="checkbox" role="switch" checked={enabled} onChange={(e) => setEnabled((e.target as HTMLInputElement).checked)} data-testid="webhook-enabled" />
          <span class="switch-track" aria-hidden="true" />
          {enabled ? 'Enabled' : 'Disabled'}
        </label>
      </div>
      <div class="grid-fields">
        <div class={`field${errors.name ? ' has-error' : ''}`} data-field="name">
          <label for={fid('name')}>Name</label>
          <input id={fid('name')} value={name} onInput={(e) => setName(val(e))} placeholder="My endpoint" data-testid="webhook-name" {...aria('name')} />
          {fieldErr('name')}
        </div>
        <div class={`field wide${errors.url ? ' has-error' : ''}`} data-field="url">
          <label for={fid('url')}>URL</label>
          <div class="input-row">
            <input id={fid('url')} value={url} onInput={(e) => setUrl(val(e))} placeholder="https://example.com/hooks" class="mono" data-testid="webhook-url" {...aria('url')} />
            <select
              aria-label="Use one of our bins"
              data-testid="use-bin"
              value=""
              onFocus={onBinsWanted}
              onMouseDown={onBinsWanted}
              onChange={(e) => {
                const v = val(e);
                (e.target as HTMLSelectElement).value = '';
                void pickBin(v);
              }}
            >
              <option value="">Use a bin…</option>
              {bins.map((b) => (
                <option key={b.id} value={b.url}>
                  {b.name} ({b.id.slice(0, 6)}…)
                </option>
              ))}
              <option value="__new">+ New bin</option>
            </select>
          </div>
          {binForUrl && (
            <p class="muted small">
              Receiver: bin <Link href={paths.bin(binForUrl.id)}>{binForUrl.name}</Link>. Its attempts link to the captured requests.
            </p>
          )}
          {fieldErr('url')}
        </div>
      </div>

      <fieldset class={`events${errors.events ? ' has-error' : ''}`} data-field="events">
        <legend>Events</legend>
        {EVENTS.map((ev) => (
          <label key={ev.id} class="check">
            <input type="checkbox" checked={events.includes(ev.id)} onChange={(e) => toggleEvent(ev.id, (e.target as HTMLInputElement).checked)} data-testid={`event-${ev.id}`} />
            {ev.label} <span class="muted small">({ev.hint})</span>
          </label>
        ))}
        {fieldErr('events')}
      </fieldset>

      <div class={`field secret${errors.secret ? ' has-error' : ''}`} data-field="secret">
        <span class="label" id={fid('secret-label')}>
          Signing secret
        </span>
        {secret.mode === 'new' ? (
          <div>
            <div class="input-row">
              <input
                id={fid('secret')}
                aria-labelledby={fid('secret-label')}
                class="mono"
                value={secret.value}
                onInput={(e) => setSecret({ mode: 'new', value: val(e) })}
                data-testid="webhook-secret"
                spellcheck={false}
                autocomplete="off"
                {...aria('secret')}
              />
              <CopyButton text={secret.value} testId="copy-secret" />
            </div>
            <p class="notice notice-warn small" role="note">
              Copy this secret into your receiver now. Once saved, hooklab keeps it write-only and cannot show it again.
            </p>
          </div>
        ) : secret.mode === 'remove' ? (
          <p class="muted">
            The secret will be removed on save; requests go unsigned.{' '}
            <button type="button" class="btn btn-small" onClick={() => setSecret({ mode: 'keep' })}>
              Undo
            </button>
          </p>
        ) : (
          <p class="input-row">
            <span class="muted" data-testid="secret-state">
              {webhook?.hasSecret ? 'A secret is set (hidden).' : 'No secret: requests are not signed.'}
            </span>
            <button
              type="button"
              class="btn btn-small"
              onClick={() => {
                // The button goes with the mode: the focus goes to copying the new secret.
                focusAfter('[data-testid="copy-secret"]');
                setSecret({ mode: 'new', value: generateSecret() });
              }}
              data-testid="generate-secret"
            >
              {webhook?.hasSecret ? 'Replace…' : 'Generate'}
            </button>
            {webhook?.hasSecret && (
              <button type="button" class="btn btn-small" onClick={() => setSecret({ mode: 'remove' })}>
                Remove
              </button>
            )}
          </p>
        )}
        {fieldErr('secret')}
      </div>

      {webhook?.disabledBy && !webhook.enabled && (
        <p class="notice notice-warn small disabled-by" data-testid="disabled-by">
          Disabled by hooklab ({webhook.disabledBy.reason === 'gone' ? '410 Gone' : 'failing too long'}): {webhook.disabledBy.detail}. Switch it on and save to enable it again.
        </p>
      )}

      {initial?.failing && (
        <p class="muted small failing" data-testid="webhook-failing">
          {failingWords(initial.failing)}
        </p>
      )}

      {cancelling > 0 && !webhook?.enabled && (
        <p class="notice notice-warn small" role="status" data-testid="webhook-cancelling">
          {cancellingWords(cancelling)}
        </p>
      )}

      {webhook?.scheduleNote && (
        <p class="notice notice-warn small" data-testid="schedule-note">
          {webhook.scheduleNote} Save a schedule that plans fewer attempts to have every one made.
        </p>
      )}

      <details
        class="advanced"
        open={advancedOpen || ADVANCED.some((k) => errors[k])}
        onToggle={(e) => setAdvancedOpen((e.currentTarget as HTMLDetailsElement).open)}
      >
        <summary>Success rule, timeout, retry schedule and behaviours</summary>
        <div class="grid-fields">
          <div class={`field${errors['schedule.preset'] ? ' has-error' : ''}`} data-field="schedule.preset">
            <label for={fid('preset')}>Schedule</label>
            <select id={fid('preset')} value={sched.preset} onChange={(e) => setSched({ ...sched, preset: val(e) })} data-testid="webhook-preset">
              {/* Stored as "portable" (the API or a config file can say so), the menu keeps that value: a
                  blank menu otherwise, and a save that dropped the preset. Same schedule either way. */}
              <option value={savedForm.sched.preset === 'portable' ? 'portable' : ''}>portable (server default)</option>
              {SCHEDULE_PRESETS.filter((p) => p !== 'portable').map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
              <option value="list">a list of waits…</option>
            </select>
            {fieldErr('schedule.preset')}
          </div>
          {sched.preset === 'list' && (
            <div class={`field wide${errors['schedule.delaysMs'] ? ' has-error' : ''}`} data-field="schedule.delaysMs">
              <label for={fid('delays')}>Waits before each retry (ms, comma-separated)</label>
              <input id={fid('delays')} value={sched.delaysMs} onInput={(e) => setSched({ ...sched, delaysMs: val(e) })} placeholder="5000, 300000, 1800000" data-testid="webhook-delays" {...aria('schedule.delaysMs')} />
              {fieldErr('schedule.delaysMs')}
            </div>
          )}
          <div class="field" data-field="successPolicy">
            <label for={fid('policy')}>Success means</label>
            <select id={fid('policy')} value={successPolicy} onChange={(e) => setSuccessPolicy(val(e) as '200' | '2xx')}>
              <option value="200">exactly 200</option>
              <option value="2xx">any 2xx</option>
            </select>
          </div>
          <NumField slot="timeoutMs" id={fid('timeoutMs')} label="Timeout (ms)" value={timeoutMs} onInput={setTimeoutMs} placeholder="server default" error={errors.timeoutMs} ms />
          <NumField slot="schedule.firstDelayMs" id={fid('first')} label="First retry after (ms)" value={sched.firstDelayMs} onInput={(v) => setSched({ ...sched, firstDelayMs: v })} placeholder="default" error={errors['schedule.firstDelayMs'] ?? errors.schedule} ms />
          <NumField slot="schedule.factor" id={fid('factor')} label="Factor" value={sched.factor} onInput={(v) => setSched({ ...sched, factor: v })} placeholder="default" error={errors['schedule.factor']} />
          <NumField slot="schedule.jitter" id={fid('jitter')} label="Jitter (0–0.99)" value={sched.jitter} onInput={(v) => setSched({ ...sched, jitter: v })} placeholder="default" error={errors['schedule.jitter']} />
          <NumField slot="schedule.deadlineMs" id={fid('deadline')} label="Deadline (ms)" value={sched.deadlineMs} onInput={(v) => setSched({ ...sched, deadlineMs: v })} placeholder="default" error={errors['schedule.deadlineMs']} ms />
        </div>
        <fieldset class="behaviors">
          <legend>Sender behaviours (all off unless set)</legend>
          <label class="check">
            <input type="checkbox" checked={beh.retryAfter} onChange={(e) => setBeh({ ...beh, retryAfter: (e.target as HTMLInputElement).checked })} data-testid="behavior-retryAfter" />
            Honour <code>Retry-After</code> on 429 and 503 (between the planned wait and twice it)
          </label>
          <label class="check">
            <input type="checkbox" checked={beh.disableOn410} onChange={(e) => setBeh({ ...beh, disableOn410: (e.target as HTMLInputElement).checked })} data-testid="behavior-disableOn410" />
            <code>410 Gone</code> disables the webhook and cancels its pending deliveries
          </label>
          <div class="grid-fields">
            <div class={`field${errors['behaviors.abortHeader'] ? ' has-error' : ''}`} data-field="behaviors.abortHeader">
              <label for={fid('abort')}>Stop retrying when the answer has header</label>
              <input id={fid('abort')} class="mono" value={beh.abortHeader} placeholder="x-abort-retries" onInput={(e) => setBeh({ ...beh, abortHeader: val(e) })} data-testid="behavior-abortHeader" {...aria('behaviors.abortHeader')} />
              {fieldErr('behaviors.abortHeader')}
            </div>
            <NumField slot="behaviors.disableAfterDays" id={fid('days')} label="Disable after N days of failure" value={beh.disableAfterDays} onInput={(v) => setBeh({ ...beh, disableAfterDays: v })} placeholder="never" error={errors['behaviors.disableAfterDays']} />
            <NumField slot="behaviors.disableAfterDeliveries" id={fid('dels')} label="…or N failed deliveries in a row" value={beh.disableAfterDeliveries} onInput={(v) => setBeh({ ...beh, disableAfterDeliveries: v })} placeholder="never" error={errors['behaviors.disableAfterDeliveries']} />
          </div>
          {fieldErr('behaviors')}
        </fieldset>
      </details>

      <SettingsConflict sync={sync} onKeepMine={() => save(undefined, true)} onError={setFailure} />
      {message && (
        <p class={`notice notice-${message.tone}`} role={message.tone === 'bad' ? 'alert' : 'status'} data-testid="webhook-message">
          {message.text}
        </p>
      )}
      {failure && (
        <p class="notice notice-bad" role="alert" data-testid="webhook-failure">
          {failure}
        </p>
      )}

      <div class="row">
        <KeepFocusButton type="submit" class="btn btn-primary" off={busy} data-testid="save-webhook">
          {webhook ? 'Save' : 'Create webhook'}
        </KeepFocusButton>
        <KeepFocusButton type="button" class="btn" onClick={runTest} disabled={!webhook} off={test.running} title={webhook ? 'Send one test event now (uses the saved settings)' : 'Save the webhook first'} data-testid="test-webhook">
          {test.running ? 'Testing…' : 'Test'}
        </KeepFocusButton>
        {onCancel && (
          <button type="button" class="btn" onClick={onCancel}>
            Cancel
          </button>
        )}
        <span class="spacer" />
        {webhook && onDeleted && (
          <ConfirmButton
            confirmLabel="Delete webhook?"
            onConfirm={async () => {
              try {
                onDeleted(webhook.id, await api.deleteWebhook(webhook.id));
              } catch (err) {
                setFailure(err);
              }
            }}
          >
            Delete
          </ConfirmButton>
        )}
      </div>
      <TestOutcome state={test} />
    </form>
  );
}

/** A webhook turned off during an attempt: that attempt is recorded, then its delivery ends. */
/** The failure streak the disable-after behaviours count (from the console's live list: this form's own copy is its settings). */
export function failingWords(f: { since: string; deliveries: number }): string {
  const n = f.deliveries;
  return `Failing since ${formatDate(f.since)} ${formatClock(f.since, false)} (virtual)${n > 0 ? ` · ${n.toLocaleString('en-US')} ${n === 1 ? 'delivery' : 'deliveries'} in a row ended undelivered` : ': every attempt since has failed'}`;
}

export function cancellingWords(n: number): string {
  return `Cancelling ${n === 1 ? '1 pending delivery' : `${n.toLocaleString('en-US')} pending deliveries`}: the attempt under way is finishing; no more attempts.`;
}

function TestOutcome({ state }: { state: { running: boolean; result: TestResult | null; error: string | null } }) {
  if (state.error) {
    return (
      <p class="notice notice-bad" role="alert" data-testid="test-result" data-ok="false">
        Test failed to run: {state.error}
      </p>
    );
  }
  const r = state.result;
  if (!r) return null;
  const a = r.delivery.attempts[r.delivery.attempts.length - 1];
  const what = r.status !== null ? `HTTP ${r.status}` : (r.error ?? 'no answer');
  return (
    <div class={`notice ${r.ok ? 'notice-ok' : 'notice-bad'}`} role="status" data-testid="test-result" data-ok={r.ok ? 'true' : 'false'}>
      <strong>{r.ok ? 'Delivered' : 'Not delivered'}</strong>: {what} in {formatDuration(r.durationMs)}
      {a?.errorDetail ? ` (${a.errorDetail})` : ''}.
      {a?.responseBody && <pre class="code small-pre">{a.responseBody}</pre>}
      {a?.capturedRequestId && r.delivery.binId && (
        <p>
          <Link href={paths.request(r.delivery.binId, a.capturedRequestId)} data-testid="test-captured-link">
            See the captured request
          </Link>
        </p>
      )}
    </div>
  );
}

function NumField(p: { id: string; slot: string; label: string; value: string; onInput: (v: string) => void; placeholder?: string; error?: string; ms?: boolean }) {
  const n = Number(p.value);
  return (
    <div class={`field${p.error ? ' has-error' : ''}`} data-field={p.slot}>
      <label for={p.id}>{p.label}</label>
      <input id={p.id} inputMode="decimal" class="in-medium" value={p.value} placeholder={p.placeholder} onInput={(e) => p.onInput(val(e))} aria-invalid={!!p.error} aria-describedby={p.error ? `${p.id}-err` : undefined} />
      {p.ms && p.value.trim() && Number.isFinite(n) && n > 0 && <span class="muted small">= {formatDuration(n)}</span>}
      {p.error && (
        <p class="field-error" id={`${p.id}-err`} data-testid="field-error">
          {p.error}
        </p>
      )}
    </div>
  );
}

const val = (e: Event) => (e.target as HTMLInputElement).value;
const str = (v: number | undefined) => (v === undefined ? '' : String(v));
function numOrText(s: string): number | string {
  const t = s.trim();
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}
