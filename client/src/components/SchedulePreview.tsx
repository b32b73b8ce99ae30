// The retry schedule before anything runs: the planned attempts for given settings (or a
// webhook's overrides), drawn on the same timeline as real deliveries.
import { useEffect, useState } from 'preact/hooks';
import type { SchedulePreview as Preview, Webhook } from '../../../shared/api.ts';
import { ApiError, api, errorMessage } from '../lib/api.ts';
import { formatDuration } from '../lib/format.ts';
import { Timeline } from './Timeline.tsx';

export function SchedulePreview({ webhooks }: { webhooks: Webhook[] }) {
  const [webhookId, setWebhookId] = useState('');
  const [seed, setSeed] = useState('1');
  const [firstDelayMs, setFirst] = useState('');
  const [factor, setFactor] = useState('');
  const [jitter, setJitter] = useState('');
  const [deadlineMs, setDeadline] = useState('');
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<{ field?: string; message: string } | null>(null);

  useEffect(() => {
    let alive = true;
    const t = setTimeout(() => {
      const q: Record<string, string | undefined> = {
        webhookId: webhookId || undefined,
        seed: seed.trim() || undefined,
        firstDelayMs: firstDelayMs.trim() || undefined,
        factor: factor.trim() || undefined,
        jitter: jitter.trim() || undefined,
        deadlineMs: deadlineMs.trim() || undefined,
      };
      api.schedulePreview(q as never).then(
        (p) => {
          if (!alive) return;
          setPreview(p);
          setError(null);
        },
        (err) => alive && setError({ field: err instanceof ApiError ? err.field : undefined, message: errorMessage(err) }),
      );
    }, 200);
    return () => {
      alive = false;
      clearTimeout(t);
    };
  }, [webhookId, seed, firstDelayMs, factor, jitter, deadlineMs]);

  const num = (label: string, id: string, value: string, set: (v: string) => void, placeholder: string) => {
    const bad = error?.field === id || (error?.field?.endsWith(`.${id}`) ?? false);
    return (
      <div class={`field${bad ? ' has-error' : ''}`}>
        <label for={`sp-${id}`}>{label}</label>
        <input id={`sp-${id}`} class="in-medium" inputMode="decimal" value={value} placeholder={placeholder} onInput={(e) => set((e.target as HTMLInputElement).value)} aria-invalid={bad} aria-describedby={bad ? 'sp-err' : undefined} />
      </div>
    );
  };

  const s = preview?.settings;
  return (
    <section class="card preview-panel" aria-labelledby="h-preview" data-testid="schedule-preview">
      <h2 id="h-preview">Retry schedule preview</h2>
      <p class="muted small">The attempts a delivery would plan, before any run. Blank fields use the webhook's or the server's settings.</p>
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
        {num('First retry after (ms)', 'firstDelayMs', firstDelayMs, setFirst, s ? String(s.firstDelayMs) : '')}
        {num('Factor', 'factor', factor, setFactor, s ? String(s.factor) : '')}
        {num('Jitter (0–0.99)', 'jitter', jitter, setJitter, s ? String(s.jitter) : '')}
        {num('Deadline (ms)', 'deadlineMs', deadlineMs, setDeadline, s ? String(s.deadlineMs) : '')}
        {num('Seed', 'seed', seed, setSeed, '1')}
      </div>
      {error && (
        <p class="field-error" id="sp-err" role="alert">
          {error.message}
        </p>
      )}
      {preview && (
        <>
          <Timeline
            deadlineMs={preview.settings.deadlineMs}
            attempts={[]}
            planned={preview.attempts.map((a) => ({ index: a.n, t: a.offsetMs }))}
            label={`Planned attempts: ${preview.attempts.length} within ${formatDuration(preview.settings.deadlineMs)}`}
            testId="preview-timeline"
          />
          <p class="muted small">
            {preview.attempts.length} attempts: first retry after {formatDuration(preview.settings.firstDelayMs)}, each wait ×{preview.settings.factor} (±
            {Math.round(preview.settings.jitter * 100)}%), the last on the {formatDuration(preview.settings.deadlineMs)} deadline.
          </p>
          <ol class="offsets" aria-label="Planned attempt times">
            {preview.attempts.map((a) => (
              <li key={a.n}>
                <span class="muted">#{a.n}</span> {a.n === 1 ? 'at once' : `+${formatDuration(a.offsetMs)}`}
                {a.n > 1 && <span class="muted small"> (waits {formatDuration(a.delayMs)})</span>}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
