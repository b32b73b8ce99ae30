// Start page: mint a bin in one click; the bins that exist, newest first.
import { useEffect, useState } from 'preact/hooks';
import type { Bin } from '../../../shared/api.ts';
import { ConfirmButton } from '../components/ConfirmButton.tsx';
import { api } from '../lib/api.ts';
import { PollGuard } from '../lib/poll-guard.ts';
import { useError } from '../lib/use-error.ts';
import { formatCount, formatRelative, idleExpiryText } from '../lib/format.ts';
import { Link, navigate, paths } from '../lib/router.ts';

/** How often the start page reads the bins again while it shows. */
const BINS_REFRESH_MS = 5000;

export function StartPage() {
  const [bins, setBins] = useState<Bin[] | null>(null);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  // Every read of the list goes through this: an answer older than the one shown, or sent
  // before a delete here (it would show the bin again), is dropped; a poll waits for the read out.
  const [reads] = useState(() => new PollGuard());
  const load = () => void reads.run(api.listBins, setBins, setError);
  // Cleared (and the list read again) once an unreachable server is back.
  const [error, setError] = useError(load);

  useEffect(() => {
    document.title = 'hooklab';
    load();
  }, []);

  // Kept current while the page shows (counts, "last request", bins made elsewhere): read again
  // every few seconds, not on every capture (a busy server has thousands a second). A failed
  // read leaves the list as it was: the connection badge says when the server is away. Skipped
  // while a read is out: on a slow server reads would pile up, and land out of order.
  useEffect(() => {
    const refresh = () => {
      if (document.visibilityState !== 'visible') return;
      reads.poll(api.listBins, setBins);
    };
    const timer = setInterval(refresh, BINS_REFRESH_MS);
    document.addEventListener('visibilitychange', refresh);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', refresh);
    };
  }, []);

  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const bin = await api.createBin(name.trim() || undefined);
      navigate(paths.bin(bin.id));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const remove = async (id: string) => {
    try {
      await api.deleteBin(id);
      reads.changed();
      setBins((b) => (b ?? []).filter((x) => x.id !== id));
    } catch (err) {
      setError(err);
    }
  };

  return (
    <div class="start">
      <section class="hero">
        <h1>Catch webhooks. Read them. Make them fail on purpose.</h1>
        <p class="muted">
          A bin is a URL that records every request sent to it and answers the way you tell it to: always 200, 500 three times then 200, a hang… Point your sender at it and watch the
          requests arrive live.
        </p>
        <form class="new-bin" onSubmit={create}>
          <label class="sr-only" for="bin-name">
            Name (optional)
          </label>
          <input id="bin-name" value={name} placeholder="Name (optional)" onInput={(e) => setName((e.target as HTMLInputElement).value)} maxLength={200} />
          <button type="submit" class="btn btn-primary btn-big" disabled={busy} data-testid="new-bin">
            {busy ? 'Creating…' : 'New bin'}
          </button>
        </form>
        {error && (
          <p class="notice notice-bad" role="alert">
            {error}
          </p>
        )}
        <p class="muted small">
          Testing your own retries? The <Link href="/dispatcher">dispatcher</Link> sends webhooks to a bin on a virtual clock.
        </p>
      </section>

      <section aria-labelledby="h-bins">
        <h2 id="h-bins">Bins</h2>
        {bins === null && !error && <p class="muted">Loading…</p>}
        {bins?.length === 0 && <p class="muted">No bins yet.</p>}
        {bins && bins.length > 0 && (
          <ul class="bin-list" data-testid="bin-list">
            {bins.map((b) => (
              <li key={b.id} class="bin-item" data-bin-id={b.id}>
                <div class="bin-item-main">
                  <Link href={paths.bin(b.id)} class="bin-name">
                    {b.name}
                  </Link>
                  <code class="muted small bin-item-url">{b.url}</code>
                </div>
                <div class="bin-item-meta muted small">
                  {formatCount(b.requestCount)} request{b.requestCount === 1 ? '' : 's'}
                  {b.lastRequestAt ? ` · last ${formatRelative(b.lastRequestAt)}` : ''}
                  {b.idleExpiresAt ? (
                    <span data-testid="bin-expiry" title={`Deleted ${new Date(b.idleExpiresAt).toLocaleString()} unless something is sent to it first (BIN_IDLE_DAYS)`}>
                      {` · ${idleExpiryText(b.idleExpiresAt)}`}
                    </span>
                  ) : null}
                </div>
                {/* Named for its bin (words seen only by screen readers): a list of buttons all called "Delete" says nothing. */}
                <ConfirmButton
                  class="btn-small"
                  confirmLabel={
                    <>
                      {/* The "?" inside the hidden words too: after them it was read as a word of its own. */}
                      Delete bin<span class="sr-only"> {b.name}?</span>
                      <span aria-hidden="true">?</span>
                    </>
                  }
                  onConfirm={() => remove(b.id)}
                  title="Delete this bin and its requests"
                >
                  Delete<span class="sr-only"> bin {b.name}</span>
                </ConfirmButton>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
