// Search and filter for the request list: body text always at hand, method, sub-path,
// status, a header and an idempotency key behind "More"; a key filter (set from a capture's
// detail: "Show all N with this key") is also shown on its own, with a button to drop it. Applying puts the filter in the page URL (a new history
// entry), so reload keeps it and back/forward step through searches; the server searches.
import { useEffect, useState } from 'preact/hooks';
import { type RequestFilter, FILTER_KEYS, isEmptyFilter, normalizeFilter, shortKey } from '../lib/request-filter.ts';

interface Props {
  filter: RequestFilter;
  onApply: (f: RequestFilter) => void;
  /** The server refused the applied filter: its message, at the field it names. */
  error?: { field: string | null; message: string } | null;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

export function FilterBar({ filter, onApply, error }: Props) {
  const [f, setF] = useState<RequestFilter>(filter);
  // Back/forward changes the URL: show what is applied.
  useEffect(() => setF(filter), [filter]);
  const errField = error?.field && (FILTER_KEYS as readonly string[]).includes(error.field) ? (error.field as keyof RequestFilter) : null;
  const more = !!(filter.method || filter.path || filter.status || filter.header) || (!!errField && errField !== 'q' && errField !== 'key');
  /** Props marking the field the server refused, and its message under it. */
  const bad = (k: keyof RequestFilter) => (errField === k ? { 'aria-invalid': true, 'aria-describedby': `filter-${k}-err` } : {});
  const errAt = (k: keyof RequestFilter) =>
    errField === k && (
      <span class="field-error" id={`filter-${k}-err`} role="alert" data-testid="filter-error">
        {k}: {error!.message}
      </span>
    );
  const set = (k: keyof RequestFilter) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const active = !isEmptyFilter(filter);
  return (
    <form
      class="filter-bar"
      role="search"
      aria-label="Search requests"
      data-testid="filter-bar"
      onSubmit={(e) => {
        e.preventDefault();
        onApply(normalizeFilter(f));
      }}
    >
      <div class="filter-main">
        <label class="sr-only" for="filter-q">
          Text in the body
        </label>
        <input id="filter-q" type="search" placeholder="Search bodies…" value={f.q ?? ''} onInput={set('q')} data-testid="filter-q" />
        <button type="submit" class="btn btn-small" data-testid="filter-apply">
          Search
        </button>
        {active && (
          <button type="button" class="btn btn-small" onClick={() => onApply({})} data-testid="filter-clear">
            Clear
          </button>
        )}
      </div>
      {error && !errField && (
        <p class="field-error" role="alert" data-testid="filter-error">
          This search was refused: {error.message}
        </p>
      )}
      {errAt('q')}
      {filter.key && (
        <p class="filter-key small" data-testid="filter-key">
          <span>Captures with idempotency key</span>{' '}
          <code title={filter.key} data-testid="filter-key-value">
            {shortKey(filter.key, 32)}
          </code>{' '}
          <button type="button" class="btn btn-small" onClick={() => onApply({ ...filter, key: undefined })} data-testid="filter-key-clear">
            Clear key
          </button>
        </p>
      )}
      <details class="filter-more" open={more}>
        <summary>More filters{more ? ' (on)' : ''}</summary>
        <div class="filter-grid">
          <label>
            Method
            {/* Typed, with the usual ones offered: a sender's own (PURGE, REPORT…) can be searched for too. */}
            <input value={f.method ?? ''} placeholder="any" list="filter-methods" class="in-short" autocapitalize="characters" spellcheck={false} onInput={set('method')} {...bad('method')} data-testid="filter-method" />
            <datalist id="filter-methods">
              {METHODS.map((m) => (
                <option key={m} value={m} />
              ))}
            </datalist>
            {errAt('method')}
          </label>
          <label>
            Path starts with
            <input value={f.path ?? ''} placeholder="/hooks" title="The sub-path below the bin, from its leading /: orders is searched as /orders" onInput={set('path')} {...bad('path')} data-testid="filter-path" />
            {errAt('path')}
          </label>
          <label>
            Status
            <input value={f.status ?? ''} placeholder="500 or 5xx" class="in-short" onInput={set('status')} {...bad('status')} data-testid="filter-status" />
            {errAt('status')}
          </label>
          <label>
            Header
            <input value={f.header ?? ''} placeholder="x-github-event:push" onInput={set('header')} {...bad('header')} data-testid="filter-header" />
            {errAt('header')}
          </label>
          <label>
            Idempotency key
            <input value={f.key ?? ''} placeholder="msg_…" onInput={set('key')} {...bad('key')} data-testid="filter-key-input" />
            {errAt('key')}
          </label>
        </div>
      </details>
    </form>
  );
}
