// The retry schedule before anything runs: the attempts a delivery would plan for given
// settings (a preset, a list of waits, the numbers, or a webhook's own), each with why it
// goes then, drawn on the same timeline as real deliveries; a second preset side by side;
// and what the behaviours would do (Retry-After, disable after N days).
import { useEffect, useState } from 'preact/hooks';
import type { SchedulePreview as Preview, Webhook } from '../../../shared/api.ts';
import { SCHEDULE_PRESETS } from '../../../shared/api.ts';
import { ApiError, api, errorMessage } from '../lib/api.ts';
import { formatDuration } from '../lib/format.ts';
import { REASON_LABEL } from '../lib/timeline.ts';
import { Timeline } from './Timeline.tsx';

type Query = Parameters<typeof api.schedulePreview>[0];

const PRESET_HINT: Record<string, string> = {
  portable: "Portable's: 5 s, then ×4 ±20%, last on the 24 h deadline",
  svix: 'Svix: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h',
  'standard-webhooks': 'Standard Webhooks example: 5 s … 24 h, 75.6 h in all',
  stripe: 'Stripe-like: 1 h doubling, up to 3 days',
  linear: 'Linear: every hour for 24 h',
};

export function SchedulePreview({ webhooks }: { webhooks: Webhook[] }) {
  const [webhookId, setWebhookId] = useState('');
  const [preset, setPreset] = useState('');
  const [compare, setCompare] = useState('');
  const [seed, setSeed] = useState('1');
  const [firstDelayMs, setFirst] = useState('');
  const [factor, setFactor] = useState('');
  const [jitter, setJitter] = useState('');
  const [deadlineMs, setDeadline] = useState('');
  const [delaysMs, setDelays] = useState('');
  const [retryAfterS, setRetryAfterS] = useState('');
  const [retryAfter, setRetryAfter] = useState<'' | 'true' | 'false'>('');
  const [preview, setPreview] = useState<Preview | null>(null);
  const [other, setOther] = useState<Preview | null>(null);
  const [error, setError] = useState<{ field?: string; message: string } | null>(null);

  useEffect(() => {
    let alive = true;
    const t = setTimeout(() => {
      const common: Query = { webhookId: webhookId || undefined, seed: seed.trim() || undefined, retryAfterS: retryAfterS.trim() || undefined, retryAfter: retryAfter || undefined };
      const q: Query = {
        ...common,
        preset: preset || undefined,
        firstDelayMs: firstDelayMs.trim() || undefined,
        factor: factor.trim() || undefined,
        jitter: jitter.trim() || undefined,
        deadlineMs: deadlineMs.trim() || undefined,
        delaysMs: delaysMs.trim() || undefined,
      };
      Promise.all([api.schedulePreview(q), compare ? api.schedulePreview({ ...common, preset: compare }) : Promise.resolve(null)]).then(
        ([p, o]) => {
          if (!alive) return;
          setPreview(p);
          setOther(o);
          setError(null);
        },
        (err) => {
          if (!alive) return;
          // Never show an error above a schedule it did not recompute: drop the old one.
          setPreview(null);
          setOther(null);
          setError({ field: err instanceof ApiError ? err.field : undefined, message: errorMessage(err) });
        },
      );
    }, 200);
    return () => {
      alive = false;
      clearTimeout(t);
    };
  }, [webhookId, preset, compare, seed, firstDelayMs, factor, jitter, deadlineMs, delaysMs, retryAfterS, retryAfter]);

  const num = (label: string, id: string, value: string, set: (v: string) => void, placeholder: string, wide = false) => {
    const bad = error?.field === id || (error?.field?.endsWith(`.${id}`) ?? false);
    return (
      <div class={`field${bad ? ' has-error' : ''}${wide ? ' wide' : ''}`}>
        <label for={`sp-${id}`}>{label}</label>
        <input id={`sp-${id}`} class={wide ? undefined : 'in-medium'} inputMode="decimal" value={value} placeholder={placeholder} onInput={(e) => set((e.target as HTMLInputElement).value)} aria-invalid={bad} aria-describedby={bad ? 'sp-err' : undefined} />
      </div>
    );
  };

  const s = preview?.settings;
  const isList = !!s?.delaysMs;
  return (
    <section class="card preview-panel" aria-labelledby="h-preview" data-testid="schedule-preview">
      <h2 id="h-preview">Retry schedule preview</h2>
      <p class="muted small">
        The attempts a delivery would make if every one failed, before any run. Blank fields use the webhook's or the server's settings.
      </p>
      <div class="grid-fields">
        <div class="field">
          <label for="sp-webhook">Webhook</label>
          <select id="sp-webhook" value={webhookId} onChange={(e) => setWebhookId((e.target as HTMLSelectElement).value)}>
            <option value="">(server defaults)</option>
            {webhooks.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="sp-preset">Preset</label>
          <select id="sp-preset" value={preset} onChange={(e) => setPreset((e.target as HTMLSelectElement).value)} data-testid="preview-preset">
            <option value="">(as set)</option>
            {SCHEDULE_PRESETS.map((p) => (
              <option key={p} value={p} title={PRESET_HINT[p]}>
                {p}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="sp-compare">Compare with</label>
          <select id="sp-compare" value={compare} onChange={(e) => setCompare((e.target as HTMLSelectElement).value)} data-testid="preview-compare">
            <option value="">(nothing)</option>
            {SCHEDULE_PRESETS.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </div>
        {num('First retry after (ms)', 'firstDelayMs', firstDelayMs, setFirst, s && !isList ? String(s.firstDelayMs) : '')}
        {num('Factor', 'factor', factor, setFactor, s && !isList ? String(s.factor) : '')}
        {num('Jitter (0–0.99)', 'jitter', jitter, setJitter, s ? String(s.jitter) : '')}
        {num('Deadline (ms)', 'deadlineMs', deadlineMs, setDeadline, s ? String(s.deadlineMs) : '')}
        {num('Or a list of waits (ms, comma-separated)', 'delaysMs', delaysMs, setDelays, s?.delaysMs ? s.delaysMs.join(',') : 'e.g. 5000,300000,1800000', true)}
        {num('Seed', 'seed', seed, setSeed, '1')}
        {num('Assume each failure is a 503 with Retry-After (s)', 'retryAfterS', retryAfterS, setRetryAfterS, 'none')}
        <div class="field">
          <label for="sp-retryAfter">Retry-After is</label>
          <select id="sp-retryAfter" value={retryAfter} onChange={(e) => setRetryAfter((e.target as HTMLSelectElement).value as '' | 'true' | 'false')}>
            <option value="">(as the webhook says)</option>
            <option value="true">honoured</option>
            <option value="false">ignored</option>
          </select>
        </div>
      </div>
      {error && (
        <p class="field-error" id="sp-err" role="alert" data-testid="preview-error">
          {error.message} (no schedule shown until it is fixed)
        </p>
      )}
      {preview && (
        <div class={other ? 'preview-compare' : undefined}>
          <PreviewOne p={preview} testId="preview-timeline" title={other ? previewTitle(preview, preset || 'as set') : null} />
          {other && <PreviewOne p={other} testId="preview-timeline-b" title={previewTitle(other, compare)} />}
        </div>
      )}
    </section>
  );
}

function previewTitle(p: Preview, name: string): string {
  const span = p.attempts.at(-1)?.offsetMs ?? 0;
  return `${name}: ${p.attempts.length} attempts over ${formatDuration(span)}`;
}

function PreviewOne({ p, testId, title }: { p: Preview; testId: string; title: string | null }) {
  const s = p.settings;
  const span = p.attempts.at(-1)?.offsetMs ?? 0;
  const rule = s.delaysMs
    ? `waits of ${s.delaysMs.map(formatDuration).join(', ')}${s.jitter ? ` (±${Math.round(s.jitter * 100)}%)` : ''}, none past ${formatDuration(s.deadlineMs)}`
    : `first retry after ${formatDuration(s.firstDelayMs)}, each wait ×${s.factor} (±${Math.round(s.jitter * 100)}%), the last on the ${formatDuration(s.deadlineMs)} deadline`;
  return (
    <div data-testid={`${testId}-panel`}>
      {title && <h3>{title}</h3>}
      <Timeline
        deadlineMs={Math.max(s.deadlineMs, span)}
        attempts={[]}
        planned={p.attempts.map((a) => ({ n: a.n, t: a.offsetMs }))}
        label={`Planned attempts: ${p.attempts.length} within ${formatDuration(s.deadlineMs)}`}
        testId={testId}
      />
      <p class="muted small">
        {p.attempts.length} attempts{s.preset ? ` (${s.preset})` : ''}: {rule}.
        {p.endsBy === 'disabled' ? ' The webhook would be disabled at the last one (disableAfterDays).' : ''}
      </p>
      <ol class="offsets" aria-label="Planned attempt times">
        {p.attempts.map((a) => (
          <li key={a.n} title={a.detail ?? undefined}>
            <span class="muted">#{a.n}</span> {a.n === 1 ? 'at once' : `+${formatDuration(a.offsetMs)}`}
            {a.n > 1 && <span class="muted small"> (waits {formatDuration(a.delayMs)})</span>}
            {a.reason !== 'schedule' && a.reason !== 'first' && <span class="small why"> {REASON_LABEL[a.reason]}</span>}
          </li>
        ))}
      </ol>
      {p.notes.length > 0 && (
        <ul class="preview-notes muted">
          {p.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
