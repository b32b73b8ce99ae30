// The virtual clock: current time (extrapolated between server events), speed presets,
// pause, and "step to the next attempt". `now` comes from the page, so the clock and every
// delivery's countdown read the same instant; when the dispatcher cannot keep up, it says so.
import { useState } from 'preact/hooks';
import type { ClockState } from '../../../shared/api.ts';
import { api } from '../lib/api.ts';
import { useError } from '../lib/use-error.ts';
import { type ClockSnapshot, SPEEDS } from '../lib/clock.ts';
import { formatDate, formatClock, formatDuration } from '../lib/format.ts';
import { KeepFocusButton } from './KeepFocusButton.tsx';

interface Props {
  clock: ClockSnapshot | null;
  /** Virtual now (ms), shared with the delivery cards. */
  now: number;
  /** The dispatcher holds the clock: it has not finished what is due. */
  lagging: boolean;
  /** Run a clock action and show its answer (unless a newer state came while it was out). */
  ask: (action: () => Promise<ClockState>) => Promise<void>;
  /** The next attempt or run end (virtual ms), or null when nothing is due. */
  nextDueAt: number | null;
  /** The retry window after each event, in words: the server's default, or each webhook's (deadlineWords). */
  deadlineText: string;
  /** When the soonest pending delivery gives up (virtual ms), if any. */
  nextDeadlineAt: number | null;
}

export function ClockBar({ clock, now, lagging, ask, nextDueAt, deadlineText, nextDeadlineAt }: Props) {
  const [busy, setBusy] = useState<string | null>(null);
  // "Cannot reach the server" goes away by itself when it is back.
  const [error, setError] = useError();
  const run = async (what: string, fn: () => Promise<ClockState>) => {
    setBusy(what);
    setError(null);
    try {
      await ask(fn);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  const s = clock?.state;
  const nextDue = nextDueAt;
  const realUntilNext = nextDue !== null && s && !s.paused ? (nextDue - now) / s.scale : null;
  return (
    <section class="card clock" aria-labelledby="h-clock" data-testid="clock">
      <div class="clock-time">
        <h2 id="h-clock" class="eyebrow">
          Virtual time
        </h2>
        <div class="clock-now" data-testid="virtual-now" data-now={Math.floor(now)}>
          <span class="clock-date">{formatDate(now)}</span> <span class="clock-hms">{formatClock(now, false)}</span>
        </div>
        <div class="muted small" data-testid="next-due" data-next-due-in={nextDue === null ? '' : String(Math.round(nextDue - now))}>
          {s ? (s.paused ? 'Paused' : `Running at ${s.scale.toLocaleString('en-US')}× real time`) : 'Loading…'}
          {' · '}
          {nextDue === null ? 'nothing due' : nextDue <= now ? 'next attempt due now' : `next due in ${formatDuration(nextDue - now)}`}
          {realUntilNext !== null && realUntilNext > 0 && s && s.scale !== 1 ? ` (${formatDuration(realUntilNext)} real)` : ''}
        </div>
        {lagging && s && (
          <div class="notice notice-warn small lagging" role="status" data-testid="lagging">
            The dispatcher cannot keep up at {s.scale.toLocaleString('en-US')}×: virtual time waits for the attempts due now
            {s.behindMs > 0 ? ` (${formatDuration(s.behindMs)} behind)` : ''}, so every attempt still goes at its planned time.
          </div>
        )}
        <div class="muted small" data-testid="deadline-info">
          {deadlineText}
          {nextDeadlineAt !== null ? ` · the first pending delivery gives up ${nextDeadlineAt > now ? `in ${formatDuration(nextDeadlineAt - now)}` : 'now'}` : ''}
        </div>
      </div>
      <div class="clock-controls">
        <div class="seg" role="group" aria-label="Speed">
          {SPEEDS.map((sp) => (
            <KeepFocusButton
              key={sp.scale}
              type="button"
              class="btn seg-btn"
              aria-pressed={s?.scale === sp.scale}
              title={sp.title}
              off={!!busy}
              onClick={() => run('speed', () => api.setClock({ scale: sp.scale }))}
              data-testid={`speed-${sp.scale}`}
            >
              {sp.label}
            </KeepFocusButton>
          ))}
        </div>
        {/* Off while any clock action is out, keeping the keyboard focus (see KeepFocusButton). */}
        <KeepFocusButton type="button" class="btn" aria-pressed={!!s?.paused} off={!!busy} disabled={!s} onClick={() => run('pause', () => api.setClock({ paused: !s!.paused }))} data-testid="pause">
          {s?.paused ? 'Resume' : 'Pause'}
        </KeepFocusButton>
        <KeepFocusButton
          type="button"
          class="btn btn-primary"
          off={!!busy}
          onClick={() => run('step', () => api.advanceClock({ to: 'next' }))}
          data-testid="step-next"
          title="Jump the clock to the next due attempt (or run end) and run it"
        >
          {busy === 'step' ? 'Stepping…' : 'Step to next attempt →'}
        </KeepFocusButton>
        <KeepFocusButton type="button" class="btn" off={!!busy} onClick={() => run('hour', () => api.advanceClock({ ms: 3_600_000 }))} title="Jump one hour ahead, running everything due on the way">
          +1 h
        </KeepFocusButton>
      </div>
      {error && (
        <p class="notice notice-bad" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
