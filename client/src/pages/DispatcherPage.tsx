// The dispatcher console: webhooks (the article's settings page), simulated flow runs and
// test events, the virtual clock, and every delivery with its attempt timeline.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Bin, ClockState, Delivery, DeliveryState, Run, RunOutcome, Webhook } from '../../../shared/api.ts';
import { ClockBar } from '../components/ClockBar.tsx';
import { DeliveryCard } from '../components/DeliveryCard.tsx';
import { KeepFocusButton } from '../components/KeepFocusButton.tsx';
import { SchedulePreview } from '../components/SchedulePreview.tsx';
import { WebhookForm, cancellingWords } from '../components/WebhookForm.tsx';
import { ApiError, api } from '../lib/api.ts';
import { type ClockSnapshot, isLagging, useVirtualNow } from '../lib/clock.ts';
import { deadlineWords } from '../lib/deadline-words.ts';
import { formatDuration, formatWhen } from '../lib/format.ts';
import { MAX_RUN_SECONDS, parseRunSeconds } from '../lib/run-form.ts';
import { getSocket, subscribeDispatcher } from '../lib/socket.ts';
import { useError } from '../lib/use-error.ts';
import { PollGuard } from '../lib/poll-guard.ts';
import { type DeliveryFilter, EMPTY, type HeldDeliveries, applyLive, applyNewest, applyOlder, matches } from '../lib/delivery-list.ts';
import { liveDuring } from '../lib/live-during.ts';
import { useFocusAfter } from '../lib/use-focus-after.ts';
import { mergeRuns, upsertRun } from '../lib/run-list.ts';
import { mergeWebhooks, upsertWebhook } from '../lib/webhook-list.ts';
import './dispatcher.css';

/** Deliveries held at most (live events cut the oldest; they can be paged for again). */
const KEEP = 1000;
/** Cards drawn at first, and added by each "Show more". */
const PAGE = 25;
/** Deliveries per read: each carries every attempt (200 of them were 10 MB at 6 attempts each). */
const READ = 50;
/** At most this many read again on a (re)join; older ones drawn go and are paged for again. */
const REREAD_MAX = 200;

export function DispatcherPage() {
  const [webhooks, setWebhooks] = useState<Webhook[] | null>(null);
  const [bins, setBins] = useState<Bin[]>([]);
  // The bin picker reads the bins again as it opens (they are made and deleted elsewhere): one
  // read out at a time, and an answer sent before a bin was made here is not applied.
  const [binReads] = useState(() => new PollGuard());
  const rereadBins = useCallback(() => binReads.poll(api.listBins, setBins), []);
  const binCreated = useCallback((b: Bin) => {
    binReads.changed();
    setBins((cur) => [b, ...cur]);
  }, []);
  const [held, setHeld] = useState<HeldDeliveries>(EMPTY);
  const [readingOlder, setReadingOlder] = useState(false);
  const [runs, setRuns] = useState<Run[]>([]);
  const [clock, setClock] = useState<ClockSnapshot | null>(null);
  const [adding, setAdding] = useState(false);
  // "+ Add webhook" and the new webhook's form take each other's place: the focus goes across.
  const webhooksEl = useRef<HTMLElement>(null);
  const focusAfter = useFocusAfter(webhooksEl);
  // Goes away by itself once the server answers again ("Cannot reach the hooklab server").
  const [error, setError] = useError();
  const [filterWebhook, setFilterWebhook] = useState('');
  const [filterState, setFilterState] = useState<'' | DeliveryState>('');
  const filter = useMemo<DeliveryFilter>(() => ({ webhookId: filterWebhook, state: filterState }), [filterWebhook, filterState]);
  const filterNow = useRef(filter);
  filterNow.current = filter;
  const [shown, setShown] = useState(PAGE);
  const shownNow = useRef(shown);
  shownNow.current = shown;
  const [defaultDeadline, setDefaultDeadline] = useState<number | null>(null);
  /** Webhooks hooklab turned off by itself while the page was open (410, failing too long). */
  const [autoOff, setAutoOff] = useState<Webhook[]>([]);
  /** Webhooks deleted while the page was open, their deliveries still being cancelled (their name is gone with them). */
  const [deletedCancelling, setDeletedCancelling] = useState<{ id: string; name: string }[]>([]);
  // Joined the dispatcher's live events (tests wait for it before making any).
  const [joined, setJoined] = useState(false);
  const webhooksNow = useRef(webhooks);
  webhooksNow.current = webhooks;
  const pending = useRef<Delivery[]>([]);
  const scheduled = useRef(false);
  // Live events that came while a read was out, per id: merged with its answer (see live-during).
  const [deliveriesDuring] = useState(() => liveDuring<Delivery>());
  const [webhooksDuring] = useState(() => liveDuring<Webhook | null>());
  /** Counts reads of the newest (and filter changes): an answer to a read made before the last of them is dropped. */
  const readGen = useRef(0);

  /**
   * Read the newest deliveries matching the filter, as many as are drawn (READ to REREAD_MAX): its
   * answer decides what is held, so nothing held can stay as it was before a disconnect.
   */
  const readNewest = useCallback(async () => {
    const gen = ++readGen.current;
    const f = filterNow.current;
    const limit = Math.min(REREAD_MAX, Math.max(READ, shownNow.current));
    const { answer, during } = await deliveriesDuring.read(() => api.listDeliveries({ webhookId: f.webhookId || undefined, state: f.state || undefined, limit }));
    if (gen === readGen.current) setHeld(applyNewest(answer, during, f, KEEP));
  }, []);

  // Clock states come from events, from the answers to our own clock actions, and from
  // re-reads; an answer (a re-read's or an action's) overtaken by a newer state while in
  // flight is dropped: another tab's change announced meanwhile is newer than it.
  const clockEpoch = useRef(0);
  const onClock = useCallback((c: ClockState) => {
    clockEpoch.current++;
    setClock({ state: c, receivedAt: performance.now() });
  }, []);
  /** A clock read or action: its answer is dropped when a newer state came while it was out. */
  const clockAnswer = useCallback((ask: () => Promise<ClockState>) => {
    const epoch = clockEpoch.current;
    return ask().then((c) => {
      if (epoch === clockEpoch.current) onClock(c);
    });
  }, []);
  const rereadClock = useCallback(() => clockAnswer(api.getClock), []);

  useEffect(() => {
    document.title = 'Dispatcher · hooklab';
    let alive = true;
    const loadAll = async () => {
      try {
        const [w, b, r] = await Promise.all([webhooksDuring.read(api.listWebhooks), api.listBins(), api.listRuns(), readNewest(), rereadClock()]);
        if (!alive) return;
        setWebhooks((cur) => mergeWebhooks(cur, w.answer, w.during));
        setBins(b);
        setRuns((cur) => mergeRuns(cur, r));
        setError(null);
      } catch (err) {
        if (alive) setError(err);
      }
    };
    void loadAll();
    api.schedulePreview().then((p) => alive && setDefaultDeadline(p.settings.deadlineMs), () => {});
    const flush = () => {
      scheduled.current = false;
      const batch = pending.current;
      pending.current = [];
      if (alive && batch.length) setHeld((cur) => applyLive(cur, batch, filterNow.current, KEEP));
    };
    // The server announces the clock only when it is set or advanced; what is due next
    // changes with every delivery and run, so re-read it (at most every 250 ms) after those.
    let clockTimer: number | undefined;
    const refreshClock = () => {
      if (clockTimer !== undefined) return;
      clockTimer = window.setTimeout(() => {
        clockTimer = undefined;
        if (alive) rereadClock().catch(() => {});
      }, 250);
    };
    const s = getSocket();
    const onDelivery = (d: Delivery) => {
      refreshClock();
      deliveriesDuring.note(d.id, d);
      pending.current.push(d);
      if (!scheduled.current) {
        scheduled.current = true;
        if (document.hidden) setTimeout(flush, 500);
        else requestAnimationFrame(flush);
      }
    };
    // Made or changed here, in another tab, over the API, or by the dispatcher itself.
    const onWebhook = (w: Webhook) => {
      webhooksDuring.note(w.id, w);
      const prev = webhooksNow.current?.find((x) => x.id === w.id);
      setWebhooks((cur) => (cur?.some((x) => x.id === w.id) ? cur.map((x) => (x.id === w.id ? w : x)) : [...(cur ?? []), w]));
      // Only as it is disabled: later events (its failure streak moving) do not bring a dismissed notice back.
      if (w.disabledBy && w.disabledBy.at !== prev?.disabledBy?.at) setAutoOff((cur) => [w, ...cur.filter((x) => x.id !== w.id)]);
    };
    const onWebhookDeleted = ({ id, cancelling }: { id: string; cancelling: number }) => {
      webhooksDuring.note(id, null);
      const gone = webhooksNow.current?.find((x) => x.id === id);
      if (gone && cancelling > 0) noteDeletedCancelling(id, gone.name);
      setWebhooks((cur) => cur && cur.filter((x) => x.id !== id));
      setAutoOff((cur) => cur.filter((x) => x.id !== id));
    };
    const onRun = (r: Run) => {
      refreshClock();
      setRuns((cur) => upsertRun(cur, r));
    };
    s.on('delivery', onDelivery);
    s.on('webhook', onWebhook);
    s.on('webhook:deleted', onWebhookDeleted);
    s.on('run', onRun);
    s.on('clock', onClock);
    // Anything that changed between the first fetch and joining (or while disconnected) came
    // with no event: fetch everything again once joined, the first time too.
    const off = subscribeDispatcher(() => {
      if (!alive) return;
      setJoined(true);
      void loadAll();
    });
    return () => {
      alive = false;
      clearTimeout(clockTimer);
      off();
      s.off('delivery', onDelivery);
      s.off('webhook', onWebhook);
      s.off('webhook:deleted', onWebhookDeleted);
      s.off('run', onRun);
      s.off('clock', onClock);
    };
  }, []);

  function noteDeletedCancelling(id: string, name: string) {
    setDeletedCancelling((cur) => (cur.some((x) => x.id === id) ? cur : [...cur, { id, name }]));
  }

  // A filter is asked of the server (the page holds a page of deliveries, not all of them).
  const firstFilter = useRef(true);
  useEffect(() => {
    if (firstFilter.current) {
      firstFilter.current = false; // the first read is made as the page opens
      return;
    }
    readGen.current++;
    setHeld(EMPTY);
    setShown(PAGE);
    shownNow.current = PAGE;
    readNewest().catch(setError);
  }, [filter]);

  const deliveries = held.list;
  const visible = useMemo(() => deliveries.filter((d) => matches(d, filter)), [deliveries, filter]);
  /** Draw PAGE more, reading the next page from the server when fewer than that are held. */
  const showMore = () => {
    setShown((n) => n + PAGE);
    if (visible.length >= shown + PAGE || !held.more || readingOlder) return;
    const gen = readGen.current;
    const f = filter;
    const before = deliveries[deliveries.length - 1]?.id;
    setReadingOlder(true);
    deliveriesDuring
      .read(() => api.listDeliveries({ webhookId: f.webhookId || undefined, state: f.state || undefined, before, limit: READ }))
      .then(({ answer, during }) => {
        if (gen === readGen.current) setHeld((cur) => applyOlder(cur, answer, during, KEEP));
      }, setError)
      .finally(() => setReadingOlder(false));
  };
  // What is due next, and when the first pending delivery gives up: the server's answers (kept
  // fresh by clock events and re-reads). The page holds a page of deliveries, and a copy held
  // across a disconnect may be out of date.
  const nextDueAt = clock?.state.nextDueAt ? Date.parse(clock.state.nextDueAt) : null;
  const nextDeadlineAt = clock?.state.nextDeadlineAt ? Date.parse(clock.state.nextDeadlineAt) : null;
  const deadlineText = useMemo(() => deadlineWords(webhooks ?? [], defaultDeadline), [webhooks, defaultDeadline]);
  const hooksById = useMemo(() => new Map((webhooks ?? []).map((w) => [w.id, w])), [webhooks]);
  // Its webhook off (disabled, or deleted: not in the list once that is loaded).
  const hookOf = (id: string): 'on' | 'off' | null => (webhooks === null ? null : hooksById.get(id)?.enabled ? 'on' : 'off');
  // Per webhook turned off: its pending deliveries still being cancelled, as this page holds them.
  const cancellingOf = useMemo(() => {
    const m = new Map<string, number>();
    if (webhooks === null) return m;
    for (const d of deliveries) if (d.state === 'pending' && !hooksById.get(d.webhookId)?.enabled) m.set(d.webhookId, (m.get(d.webhookId) ?? 0) + 1);
    return m;
  }, [deliveries, hooksById, webhooks]);
  // A deleted webhook's note goes once its deliveries here have ended.
  const deletedShown = deletedCancelling.filter((x) => (cancellingOf.get(x.id) ?? 0) > 0);
  // One virtual "now" for the whole page: the clock and every countdown agree at any speed.
  const now = useVirtualNow(clock, 250);
  const lagging = isLagging(clock, performance.now());

  return (
    <div class="dispatcher" data-joined={joined ? 'true' : 'false'}>
      <div class="page-head">
        <h1>Dispatcher</h1>
        <p class="muted">
          Plays the sender: flow runs emit <code>sync_start</code> and <code>sync_end</code>, each delivered to the subscribed webhooks and retried on schedule until a success or the
          deadline. Time here is virtual: speed it up or step it.
        </p>
      </div>
      {error && (
        <p class="notice notice-bad" role="alert">
          {error}
        </p>
      )}
      {autoOff.map((w) => (
        <div key={w.id} class="notice notice-warn auto-off" role="alert" data-testid="auto-disabled">
          <strong>Webhook “{w.name}” was disabled by hooklab</strong> at {formatWhen(w.disabledBy!.at, now, false)} (virtual):{' '}
          {w.disabledBy!.detail}. Its pending deliveries were cancelled. Turn it on again in its settings.{' '}
          <button type="button" class="btn btn-small" onClick={() => setAutoOff((cur) => cur.filter((x) => x.id !== w.id))}>
            Dismiss
          </button>
        </div>
      ))}
      {deletedShown.map((x) => (
        <p key={x.id} class="notice notice-warn" role="status" data-testid="deleted-cancelling">
          Webhook “{x.name}” was deleted. {cancellingWords(cancellingOf.get(x.id)!)}
        </p>
      ))}
      <div class="dispatcher-grid">
        <div class="col col-settings">
          <RunPanel runs={runs} now={now} hasWebhooks={(webhooks?.length ?? 0) > 0} />
          <section class="webhooks-panel" aria-labelledby="h-webhooks" ref={webhooksEl}>
            <div class="section-head">
              <h2 id="h-webhooks">Webhooks</h2>
              {!adding && (
                <button
                  type="button"
                  class="btn"
                  onClick={() => {
                    focusAfter('[data-testid="webhook-form"]:not([data-webhook-id]) [data-testid="webhook-name"]');
                    setAdding(true);
                  }}
                  data-testid="add-webhook"
                >
                  + Add webhook
                </button>
              )}
            </div>
            {webhooks === null && <p class="muted">Loading…</p>}
            {webhooks?.length === 0 && !adding && <p class="muted">No webhooks yet. Add one, point it at one of your bins, then run a flow.</p>}
            {adding && (
              <WebhookForm
                webhook={null}
                bins={bins}
                onBinCreated={binCreated}
                onBinsWanted={rereadBins}
                onCancel={() => {
                  focusAfter('[data-testid="add-webhook"]');
                  setAdding(false);
                }}
                onSaved={(w) => {
                  setWebhooks((cur) => upsertWebhook(cur, w)); // the live event may have come first
                  focusAfter('[data-testid="add-webhook"]', { ifLost: true });
                  setAdding(false);
                }}
              />
            )}
            {webhooks?.map((w) => (
              <WebhookForm
                key={w.id}
                webhook={w}
                bins={bins}
                onBinCreated={binCreated}
                onBinsWanted={rereadBins}
                onSaved={(nw) => setWebhooks((cur) => upsertWebhook(cur, nw))}
                onDeleted={(id, cancelling) => {
                  if (cancelling > 0) noteDeletedCancelling(id, w.name);
                  setWebhooks((cur) => (cur ?? []).filter((x) => x.id !== id));
                }}
                cancelling={cancellingOf.get(w.id) ?? 0}
              />
            ))}
          </section>
          <SchedulePreview webhooks={webhooks ?? []} />
        </div>
        <div class="col col-live">
          <ClockBar clock={clock} now={now} lagging={lagging} ask={clockAnswer} nextDueAt={nextDueAt} deadlineText={deadlineText} nextDeadlineAt={nextDeadlineAt} />
          <section class="deliveries-panel" aria-labelledby="h-deliveries">
            <div class="section-head">
              <h2 id="h-deliveries">Deliveries</h2>
              <div class="filters">
                <select aria-label="Filter by webhook" value={filterWebhook} onChange={(e) => setFilterWebhook((e.target as HTMLSelectElement).value)}>
                  <option value="">All webhooks</option>
                  {(webhooks ?? []).map((w) => (
                    <option key={w.id} value={w.id}>
                      {w.name}
                    </option>
                  ))}
                </select>
                <select aria-label="Filter by state" value={filterState} onChange={(e) => setFilterState((e.target as HTMLSelectElement).value as DeliveryState | '')}>
                  <option value="">Any state</option>
                  <option value="pending">Pending</option>
                  <option value="delivered">Delivered</option>
                  <option value="failed">Failed</option>
                  <option value="cancelled">Cancelled</option>
                </select>
              </div>
            </div>
            <Legend />
            {!held.loaded ? (
              <p class="muted" data-testid="deliveries-loading">
                Loading deliveries…
              </p>
            ) : visible.length === 0 && held.more ? (
              <p class="muted" data-testid="no-deliveries">
                None of the newest deliveries read match{filterWebhook || filterState ? ' these filters' : ''}: older ones may.
              </p>
            ) : visible.length === 0 ? (
              <p class="muted" data-testid="no-deliveries">
                {filterWebhook || filterState ? 'No deliveries match these filters.' : 'No deliveries yet. Run a flow (or press Test on a webhook) and they appear here.'}
              </p>
            ) : (
              <DeliveryList deliveries={visible.slice(0, shown)} now={now} hooksById={hooksById} hookOf={hookOf} />
            )}
            {held.loaded && (visible.length > shown || held.more) && (
              <button type="button" class="btn" onClick={showMore} disabled={readingOlder} data-testid="deliveries-more">
                {readingOlder ? 'Reading older deliveries…' : visible.length > shown ? `Show more (${visible.length - shown}${held.more ? '+' : ''} older)` : 'Show older deliveries'}
              </button>
            )}
          </section>
        </div>
      </div>
    </div>
  );
}

/**
 * The cards, given the page's one `now`: their countdowns read the same instant as the clock
 * (not a rounded one: at 86400x a rounding to "scale x 250 ms" was hours off).
 */
function DeliveryList({ deliveries, now, hooksById, hookOf }: { deliveries: Delivery[]; now: number; hooksById: Map<string, Webhook>; hookOf: (id: string) => 'on' | 'off' | null }) {
  return (
    <ul class="deliveries" data-testid="deliveries">
      {deliveries.map((d) => (
        <DeliveryCard key={d.id} d={d} now={now} signed={hooksById.get(d.webhookId)?.hasSecret ?? null} hook={hookOf(d.webhookId)} />
      ))}
    </ul>
  );
}

function Legend() {
  return (
    <p class="legend muted small" aria-label="Timeline legend">
      <span>
        <svg width="12" height="12" aria-hidden="true">
          <circle cx="6" cy="6" r="5" class="legend-ok" />
        </svg>{' '}
        2xx
      </span>
      <span>
        <svg width="12" height="12" aria-hidden="true">
          <circle cx="6" cy="6" r="5" class="legend-warn" />
        </svg>{' '}
        other status (the code is above the mark)
      </span>
      <span>
        <svg width="12" height="12" aria-hidden="true">
          <circle cx="6" cy="6" r="5" class="legend-bad" />
        </svg>{' '}
        no answer: T/O timeout, RST reset, REF refused, DNS, BLK blocked, ERR
      </span>
      <span>
        <svg width="12" height="12" aria-hidden="true">
          <circle cx="6" cy="6" r="4.5" class="legend-planned" />
        </svg>{' '}
        planned
      </span>
      <span>Log scale: time since the event, 0 to the deadline. Click a mark for details.</span>
    </p>
  );
}

function RunPanel({ runs, now, hasWebhooks }: { runs: Run[]; now: number; hasWebhooks: boolean }) {
  const [outcome, setOutcome] = useState<RunOutcome>('SUCCESSFUL');
  const [duration, setDuration] = useState('20');
  const [durationError, setDurationError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ tone: 'ok' | 'bad'; text: string } | null>(null);
  // A failure to start one: "Cannot reach the hooklab server" goes once the server is back.
  const [failure, setFailure] = useError();
  const fire = async (e: Event) => {
    e.preventDefault();
    if (busy) return; // Enter in the duration field while Run flow is off (it keeps the focus)
    setMessage(null);
    setFailure(null);
    // Checked here: "abc" or "-5" must not quietly become the default 20 s run.
    const parsed = parseRunSeconds(duration);
    if (!parsed.ok) {
      setDurationError(parsed.message);
      return;
    }
    setDurationError(null);
    setBusy(true);
    try {
      const run = await api.fireRun({ outcome, durationMs: parsed.ms });
      setMessage({ tone: 'ok', text: `Flow ${run.flow_id} started: sync_start sent now, sync_end (${outcome === 'SUCCESSFUL' ? 'succeeded' : 'failed'}) in ${formatDuration(Date.parse(run.endsAt) - Date.parse(run.startedAt))} virtual.` });
    } catch (err) {
      // The server counts in ms; this field is in seconds: say it in the field's terms.
      if (err instanceof ApiError && err.field === 'durationMs') setDurationError(`must be from 0 to ${MAX_RUN_SECONDS.toLocaleString('en-US')} seconds`);
      else setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card run-panel" onSubmit={fire} aria-labelledby="h-run" noValidate>
      <h2 id="h-run">Run a simulated flow</h2>
      <fieldset class="inline-radios">
        <legend>The flow</legend>
        <label class="check">
          <input type="radio" name="outcome" checked={outcome === 'SUCCESSFUL'} onChange={() => setOutcome('SUCCESSFUL')} data-testid="outcome-success" /> succeeds
        </label>
        <label class="check">
          <input type="radio" name="outcome" checked={outcome === 'FAILED'} onChange={() => setOutcome('FAILED')} data-testid="outcome-failed" /> fails
        </label>
      </fieldset>
      <div class={`field${durationError ? ' has-error' : ''}`}>
        <label for="run-duration">Runs for (virtual seconds)</label>
        <input
          id="run-duration"
          class="in-short"
          inputMode="decimal"
          value={duration}
          placeholder="20"
          onInput={(e) => {
            setDuration((e.target as HTMLInputElement).value);
            setDurationError(null);
          }}
          aria-invalid={!!durationError}
          aria-describedby={durationError ? 'run-duration-err' : undefined}
        />
        {durationError && (
          <p class="field-error" id="run-duration-err" data-testid="run-duration-error">
            {durationError}
          </p>
        )}
      </div>
      <div class="row">
        <KeepFocusButton type="submit" class="btn btn-primary" off={busy} data-testid="run-flow">
          Run flow
        </KeepFocusButton>
        {!hasWebhooks && <span class="muted small">No webhooks: nothing will be delivered.</span>}
      </div>
      <p class="muted small">To send a single <code>test</code> event, use a webhook's Test button.</p>
      {(failure || message) && (
        <p class={`notice notice-${failure ? 'bad' : message!.tone}`} role={failure ? 'alert' : 'status'} data-testid="run-message">
          {failure ?? message!.text}
        </p>
      )}
      {runs.length > 0 && (
        <ul class="runs" aria-label="Recent runs">
          {runs.slice(0, 5).map((r) => (
            <li key={r.id} data-run-id={r.id}>
              flow {r.flow_id} · {r.outcome === 'SUCCESSFUL' ? 'succeeds' : 'fails'} ·{' '}
              {r.ended ? 'ended' : Date.parse(r.endsAt) > now ? `running, ends in ${formatDuration(Date.parse(r.endsAt) - now)}` : 'ending…'} · timeline{' '}
              <a href={api.timelineUrl('runs', r.id, 'json')} download={`run-${r.id}-timeline.json`}>
                JSON
              </a>{' '}
              <a href={api.timelineUrl('runs', r.id, 'csv')} download={`run-${r.id}-timeline.csv`} data-testid="run-export-csv">
                CSV
              </a>
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}
