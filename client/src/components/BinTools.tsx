// The bin's captures as a whole: export (HAR or NDJSON, downloaded), import a file (its
// captures appear in the list as they are added), and replay them all, or the filtered set,
// to the forward targets or a URL, with the job's progress.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ReplayJob, RequestItem } from '../../../shared/api.ts';
import { replayProgressText } from '../lib/replay-progress.ts';
import { type ExportFormat, api, isNotFound } from '../lib/api.ts';
import { type RequestFilter, isEmptyFilter } from '../lib/request-filter.ts';
import { useError } from '../lib/use-error.ts';

interface Props {
  binId: string;
  filter: RequestFilter;
  /** The (filtered) list as loaded, and whether it holds every match. */
  list: RequestItem[];
  complete: boolean;
  disabled: boolean;
  onGone: () => void;
}

/** HAR is one JSON document; NDJSON is a capture per line. */
export async function formatOf(file: Blob & { name?: string }): Promise<ExportFormat> {
  const name = (file.name ?? '').toLowerCase();
  if (name.endsWith('.har')) return 'har';
  if (name.endsWith('.ndjson') || name.endsWith('.jsonl')) return 'ndjson';
  const head = await file.slice(0, 4096).text();
  return /^\s*\{\s*"log"/.test(head) ? 'har' : 'ndjson';
}

const MAX_REPLAY_IDS = 5000;

export function BinTools({ binId, filter, list, complete, disabled, onGone }: Props) {
  const [open, setOpen] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useError();
  const [busy, setBusy] = useState(false);
  const [job, setJob] = useState<ReplayJob | null>(null);
  const [replayUrl, setReplayUrl] = useState('');
  const fileInput = useRef<HTMLInputElement>(null);
  const filtered = !isEmptyFilter(filter);

  // Follow a bulk replay until it finishes.
  useEffect(() => {
    if (!job || job.state !== 'running') return;
    const t = setTimeout(() => {
      api.getReplay(job.id).then(setJob, setError);
    }, 400);
    return () => clearTimeout(t);
  }, [job]);

  const fail = (err: unknown, what: string) => {
    if (isNotFound(err)) {
      onGone();
      setError(`Could not ${what}: the bin was deleted.`);
    } else setError(`Could not ${what}: ${(err as Error).message}`);
  };

  const importFile = async (file: File) => {
    setBusy(true);
    setMessage(null);
    setError(null);
    try {
      const r = await api.importCaptures(binId, file, await formatOf(file));
      setMessage(`Imported ${r.imported} capture${r.imported === 1 ? '' : 's'} from ${file.name}${r.evicted ? ` (${r.evicted} older ones pushed out by the bin's cap)` : ''}.`);
    } catch (err) {
      fail(err, `import ${file.name}`);
    } finally {
      setBusy(false);
      if (fileInput.current) fileInput.current.value = '';
    }
  };

  /** Every match of the filter, not only the pages loaded so far (at most MAX_REPLAY_IDS). */
  const matchingIds = async (): Promise<string[]> => {
    const ids = list.slice(0, MAX_REPLAY_IDS).map((r) => r.id);
    let before: string | null = complete ? null : (ids.at(-1) ?? null);
    while (before && ids.length < MAX_REPLAY_IDS) {
      const page = await api.listRequests(binId, { limit: 500, before }, filter);
      ids.push(...page.requests.map((r) => r.id));
      before = page.nextBefore;
    }
    return ids.slice(0, MAX_REPLAY_IDS);
  };

  const replay = async () => {
    setBusy(true);
    setMessage(null);
    setError(null);
    try {
      const ids = filtered ? await matchingIds() : undefined;
      setJob(await api.bulkReplay(binId, { url: replayUrl.trim() || undefined, ids }));
    } catch (err) {
      fail(err, 'replay');
    } finally {
      setBusy(false);
    }
  };

  const count = filtered ? `${list.length.toLocaleString('en-US')}${complete ? '' : '+'} matching` : 'all';
  return (
    <details class="bin-tools" open={open} onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary class="btn btn-small" data-testid="bin-tools">
        Export, import, replay
      </summary>
      <div class="bin-tools-panel card" data-testid="bin-tools-panel">
        <h3 class="small-h">Export</h3>
        <p class="row">
          {(['har', 'ndjson'] as const).map((f) =>
            disabled ? (
              <button key={f} type="button" class="btn btn-small" disabled>
                {f.toUpperCase()}
              </button>
            ) : (
              <a key={f} class="btn btn-small" href={api.exportUrl(binId, f)} download data-testid={`export-${f}`}>
                {f === 'har' ? 'HAR 1.2' : 'NDJSON (byte-exact)'}
              </a>
            ),
          )}
        </p>
        <h3 class="small-h">Import</h3>
        <p>
          <label class="btn btn-small file-btn" aria-disabled={disabled || busy}>
            Choose an NDJSON or HAR file…
            <input
              ref={fileInput}
              type="file"
              accept=".ndjson,.jsonl,.har,.json,application/x-ndjson,application/json"
              class="sr-only"
              disabled={disabled || busy}
              onChange={(e) => {
                const file = (e.target as HTMLInputElement).files?.[0];
                if (file) void importFile(file);
              }}
              data-testid="import-file"
            />
          </label>
        </p>
        <h3 class="small-h">Replay {filtered ? 'the filtered requests' : 'the whole bin'}</h3>
        <div class="row">
          <label class="sr-only" for={`replay-url-${binId}`}>
            Replay to (empty: the forward targets)
          </label>
          <input
            id={`replay-url-${binId}`}
            class="mono grow"
            placeholder="https://… (empty: the bin's forward targets)"
            value={replayUrl}
            onInput={(e) => setReplayUrl((e.target as HTMLInputElement).value)}
            data-testid="bulk-replay-url"
          />
          <button type="button" class="btn btn-small" disabled={disabled || busy || (filtered && list.length === 0) || job?.state === 'running'} onClick={replay} data-testid="bulk-replay">
            Replay {count}
          </button>
        </div>
        {job && (
          <div class="replay-progress" role="status" data-testid="replay-progress" data-state={job.state} data-done={job.done} data-total={job.total} data-failed={job.failed}>
            <progress max={job.total || 1} value={job.done} aria-label="Replay progress" />
            <span>{replayProgressText(job)}</span>
          </div>
        )}
        {message && (
          <p class="notice notice-ok small" role="status" data-testid="bin-tools-message">
            {message}
          </p>
        )}
        {error && (
          <p class="notice notice-bad small" role="alert" data-testid="bin-tools-error">
            {error}
          </p>
        )}
      </div>
    </details>
  );
}
