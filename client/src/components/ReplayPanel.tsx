// Send a capture again: as captured, to the bin's forward targets or a URL typed here; or
// edited first (method, sub-path and query, headers, body; a binary body as base64). The
// answers are added to the capture's Forwards.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ForwardRecord, RequestDetail, ReplayInput } from '../../../shared/api.ts';
import { ApiError, api } from '../lib/api.ts';
import { type FieldErrors, clearSlot, placeErrors, slotOfEvent } from '../lib/field-errors.ts';
import { replayHeaderBytes } from '../lib/header-bytes.ts';
import { lineEndings, mainEnding, textBodyEdit } from '../lib/line-endings.ts';
import { binaryBodyEdit } from '../lib/replay-body.ts';
import { useError } from '../lib/use-error.ts';
import { Field, inputValue } from './Field.tsx';

interface Props {
  binId: string;
  detail: RequestDetail;
  edit: boolean;
  onSent: (records: ForwardRecord[]) => void;
  /** Closed (sent, cancelled, Escape): the opener puts focus back on its button. */
  onClose: () => void;
}

const SLOTS = ['url', 'method', 'path', 'queryString', 'headers', 'body'];

const NAME = { '\r\n': 'CRLF', '\n': 'LF', '\r': 'CR' } as const;

/** What happens to the line breaks of a text body not all LF (the textarea shows them all as LF). */
function endingsHint(captured: string): string | undefined {
  const n = lineEndings(captured);
  const kinds = [n.crlf && `${n.crlf} CRLF`, n.lf && `${n.lf} LF`, n.cr && `${n.cr} CR`].filter(Boolean);
  if (!n.crlf && !n.cr) return undefined;
  const main = NAME[mainEnding(captured)];
  if (kinds.length === 1) return `Its line breaks are ${main}: they are sent as ${main}, and so are new ones you type.`;
  return `Its line breaks are mixed (${kinds.join(', ')}): text you leave as it is keeps its own; line breaks in what you edit are sent as ${main}.`;
}

/** Said when a value is shown decoded: what is sent for it, and for what is typed. */
function headersHint(detail: RequestDetail): string | undefined {
  if (!detail.headerCharsets?.some((c) => c !== 'ascii')) return undefined;
  return 'Values beyond ASCII are shown as text. A line left as it is is sent with the bytes it came with; a value you change or add is sent as UTF-8.';
}

export function ReplayPanel({ binId, detail, edit, onSent, onClose }: Props) {
  const [url, setUrl] = useState('');
  const [method, setMethod] = useState(detail.method);
  const [target, setTarget] = useState(detail.path + (detail.queryString ? `?${detail.queryString}` : ''));
  const [headers, setHeaders] = useState(detail.headers.map(([n, v]) => `${n}: ${v}`).join('\n'));
  // A binary body is edited as base64 (prefilled with the captured bytes).
  const [body, setBody] = useState(detail.body);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useError();
  const [busy, setBusy] = useState(false);
  const binary = detail.bodyEncoding !== 'utf8';
  const formEl = useRef<HTMLFormElement>(null);
  const alive = useRef(true);
  // Opened: the keyboard goes to the first field (at once, before another key press).
  useLayoutEffect(() => {
    formEl.current?.querySelector<HTMLElement>('input, textarea')?.focus();
    return () => void (alive.current = false);
  }, []);

  const send = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setError(null);
    const input: ReplayInput = {};
    if (url.trim()) input.url = url.trim();
    // Each header sent, by the textarea line it came from (blank lines skipped).
    const pairLines: number[] = [];
    if (edit) {
      const local: FieldErrors = {};
      if (method.trim() !== detail.method) input.method = method.trim();
      const q = target.indexOf('?');
      const path = q === -1 ? target : target.slice(0, q);
      const query = q === -1 ? '' : target.slice(q + 1);
      if (path !== detail.path) input.path = path;
      if (query !== detail.queryString) input.queryString = query;
      const pairs: [string, string][] = [];
      headers.split('\n').forEach((line, i) => {
        if (!line.trim()) return;
        const c = line.indexOf(':');
        if (c <= 0) local.headers ??= `line ${i + 1}: write each header as "Name: value"`;
        else {
          pairs.push([line.slice(0, c).trim(), line.slice(c + 1).trim()]);
          pairLines.push(i + 1);
        }
      });
      // The lines are text; the API takes bytes: captured ones for lines left as they were.
      if (JSON.stringify(pairs) !== JSON.stringify(detail.headers)) input.headers = replayHeaderBytes(pairs, detail.headers, detail.headerCharsets);
      if (!binary) {
        // The textarea gave LF for each CRLF: the capture's line endings are put back.
        const b = textBodyEdit(body, detail.body);
        if (b !== null) input.body = b;
      } else {
        const b = binaryBodyEdit(body, detail.body);
        if (!b.ok) local.body = b.error;
        else if (b.input) Object.assign(input, b.input);
      }
      if (Object.keys(local).length) {
        setErrors(local);
        return;
      }
    }
    setBusy(true);
    try {
      const r = await api.replay(binId, detail.id, input);
      onSent(r.records);
      // Closed meanwhile (Escape): focus has moved on, leave it there.
      if (alive.current) onClose();
    } catch (err) {
      if (!alive.current) return;
      if (err instanceof ApiError && err.fields.length) {
        // The API names a header by its place in the list (headers[2][0]); the textarea by its line.
        const { errors: placed, rest } = placeErrors(err.fields, SLOTS, undefined, (field, slot, message) => {
          const at = slot === 'headers' ? /^headers\[(\d+)\]/.exec(field) : null;
          return at ? `line ${pairLines[Number(at[1])] ?? Number(at[1]) + 1}: ${message}` : message;
        });
        if (placed.url && !url.trim()) placed.url = 'this bin has no forward targets: type a URL here, or add targets under “Forward to…”';
        setErrors(placed);
        if (rest.length) setError(rest.join('; '));
      } else setError(err);
    } finally {
      if (alive.current) setBusy(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    e.preventDefault();
    e.stopPropagation();
    onClose();
  };

  return (
    <form
      ref={formEl}
      class="card replay-panel"
      onSubmit={send}
      onKeyDown={onKeyDown}
      onInput={(e) => setErrors((c) => clearSlot(c, slotOfEvent(e)))}
      noValidate
      data-testid={edit ? 'edit-replay-form' : 'replay-form'}
    >
      <h3>{edit ? 'Edit and replay' : 'Replay'}</h3>
      <div class="grid-fields">
        <Field label="Send to (empty: the bin's forward targets)" slot="url" error={errors.url} wide>
          {(a) => <input {...a} class="mono" value={url} placeholder="http://localhost:3000/webhooks" onInput={(e) => setUrl(inputValue(e))} data-testid="replay-url" />}
        </Field>
        {edit && (
          <>
            <Field label="Method" slot="method" error={errors.method}>
              {(a) => <input {...a} class="in-short mono" value={method} onInput={(e) => setMethod(inputValue(e))} data-testid="replay-method" />}
            </Field>
            <Field label="Sub-path and query" slot="path" error={errors.path ?? errors.queryString} wide>
              {(a) => <input {...a} class="mono" value={target} onInput={(e) => setTarget(inputValue(e))} data-testid="replay-path" />}
            </Field>
            <Field label="Headers (“Name: value” per line, in order)" slot="headers" error={errors.headers} wide hint={headersHint(detail)}>
              {(a) => <textarea {...a} rows={5} class="mono" value={headers} onInput={(e) => setHeaders(inputValue(e))} data-testid="replay-headers" />}
            </Field>
            {binary ? (
              <Field label="Body (base64)" slot="body" error={errors.body} wide hint="The body is binary: edit its bytes as base64. Left as it is, it is sent as captured.">
                {(a) => <textarea {...a} rows={6} class="mono" spellcheck={false} value={body} onInput={(e) => setBody(inputValue(e))} data-testid="replay-body-base64" />}
              </Field>
            ) : (
              <Field label="Body" slot="body" error={errors.body} wide hint={endingsHint(detail.body)}>
                {(a) => <textarea {...a} rows={6} class="mono" value={body} onInput={(e) => setBody(inputValue(e))} data-testid="replay-body" />}
              </Field>
            )}
          </>
        )}
      </div>
      {error && (
        <p class="notice notice-bad" role="alert">
          {error}
        </p>
      )}
      <div class="row">
        {/* aria-disabled, not disabled: a disabled button drops the keyboard focus to <body>. */}
        <button type="submit" class="btn btn-primary" aria-disabled={busy} data-testid="replay-send">
          {busy ? 'Sending…' : 'Send'}
        </button>
        <button type="button" class="btn" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
