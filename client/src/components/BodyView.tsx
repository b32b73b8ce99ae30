// A body in every view that fits it: pretty JSON (or where its syntax breaks), form fields,
// multipart parts, text, hex. Everything is rendered as text nodes, never as HTML.
import { useMemo, useState } from 'preact/hooks';
import {
  type BodyViewKind,
  availableViews,
  bodyBytes,
  decodeUtf8,
  excerptAround,
  formFields,
  hexDump,
  isProbablyText,
  jsonView,
  parseMultipart,
} from '../lib/body-views.ts';
import { formatBytes } from '../lib/format.ts';
import { PairsTable } from './HeadersTable.tsx';

const LABEL: Record<BodyViewKind, string> = { json: 'JSON', form: 'Form', multipart: 'Multipart', text: 'Text', hex: 'Hex' };
const HEX_PAGE = 64 * 1024;
/** Above this many tokens, JSON is shown without colours (one text node). */
const MAX_TOKENS = 40_000;

interface Props {
  body: string;
  encoding: 'utf8' | 'base64';
  contentType: string | null;
}

export function BodyView({ body, encoding, contentType }: Props) {
  const bytes = useMemo(() => bodyBytes(body, encoding), [body, encoding]);
  const text = useMemo(() => {
    const t = encoding === 'utf8' ? body : decodeUtf8(bytes);
    return t !== null && isProbablyText(t) ? t : null;
  }, [body, encoding, bytes]);
  const views = useMemo(() => availableViews(contentType, text, bytes.length), [contentType, text, bytes.length]);
  const [chosen, setChosen] = useState<BodyViewKind | null>(null);
  const [wrap, setWrap] = useState(true);
  const view = chosen && views.includes(chosen) ? chosen : views[0];

  if (bytes.length === 0) return <p class="muted" data-testid="body-empty">No body.</p>;

  const onTabKey = (e: KeyboardEvent) => {
    const i = views.indexOf(view);
    let next = -1;
    if (e.key === 'ArrowRight') next = (i + 1) % views.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + views.length) % views.length;
    if (next >= 0) {
      e.preventDefault();
      setChosen(views[next]);
      (e.currentTarget as HTMLElement).parentElement?.querySelectorAll<HTMLElement>('[role=tab]')[next]?.focus();
    }
  };

  return (
    <div class="body-view">
      <div class="tabs-row">
        <div role="tablist" aria-label="Body view" class="tabs">
          {views.map((v) => (
            <button
              key={v}
              type="button"
              role="tab"
              class="tab"
              aria-selected={v === view}
              tabIndex={v === view ? 0 : -1}
              data-testid={`view-${v}`}
              onClick={() => setChosen(v)}
              onKeyDown={onTabKey}
            >
              {LABEL[v]}
            </button>
          ))}
        </div>
        <label class="check small">
          <input type="checkbox" checked={wrap} onChange={(e) => setWrap((e.target as HTMLInputElement).checked)} /> Wrap lines
        </label>
      </div>
      <div role="tabpanel" class={wrap ? 'wrap' : 'nowrap'} data-testid="body-panel" data-view={view}>
        {view === 'json' && <JsonPane text={text ?? ''} />}
        {view === 'form' && <PairsTable pairs={formFields(text ?? '')} label="Form fields" testId="form-fields" empty="No fields." />}
        {view === 'multipart' && <MultipartPane bytes={bytes} contentType={contentType} />}
        {view === 'text' && <pre class="code" data-testid="body-text">{text}</pre>}
        {view === 'hex' && <HexPane bytes={bytes} />}
      </div>
    </div>
  );
}

function JsonPane({ text }: { text: string }) {
  const v = useMemo(() => jsonView(text), [text]);
  if (!v.ok) {
    const ex = excerptAround(text, v.error.offset);
    return (
      <div>
        <div class="notice notice-bad" data-testid="json-error" role="note">
          <strong>Not valid JSON</strong> — line {v.error.line}, column {v.error.column}: {v.error.message}
          <pre class="code excerpt" aria-label="Where the error is">
            {ex.cutStart ? '…' : ''}
            {ex.before}
            <mark class="err-at" data-testid="json-error-at">{ex.at || ' '}</mark>
            {ex.after}
            {ex.cutEnd ? '…' : ''}
          </pre>
        </div>
        <pre class="code" data-testid="body-text">{text}</pre>
      </div>
    );
  }
  if (v.tokens.length > MAX_TOKENS) return <pre class="code" data-testid="json-pretty">{v.pretty}</pre>;
  return (
    <pre class="code json" data-testid="json-pretty">
      {v.tokens.map((t, i) => (t.k === 'space' || t.k === 'punct' ? t.s : <span key={i} class={`j-${t.k}`}>{t.s}</span>))}
    </pre>
  );
}

function MultipartPane({ bytes, contentType }: { bytes: Uint8Array; contentType: string | null }) {
  const mp = useMemo(() => parseMultipart(bytes, contentType), [bytes, contentType]);
  return (
    <div data-testid="multipart">
      {mp.error && (
        <p class="notice notice-warn" role="note">
          {mp.error}
        </p>
      )}
      {mp.parts.length > 0 && (
        <ol class="parts">
          {mp.parts.map((p, i) => {
            const t = decodeUtf8(p.body);
            const isText = t !== null && isProbablyText(t);
            return (
              <li key={i} class="part" data-testid="multipart-part">
                <div class="part-head">
                  <strong>{p.name ?? `(part ${i + 1})`}</strong>
                  {p.filename !== null && <span class="muted">file: {p.filename}</span>}
                  {p.contentType && <span class="muted">{p.contentType}</span>}
                  <span class="size" data-testid="part-size">
                    {formatBytes(p.size)}
                    {p.size >= 1024 ? ` (${p.size.toLocaleString('en-US')} bytes)` : ''}
                  </span>
                </div>
                <details open={isText && p.size <= 2048}>
                  <summary>{isText ? 'Content' : 'Content (hex, first 512 bytes)'}</summary>
                  <PairsTable pairs={p.headers} label={`Headers of part ${i + 1}`} />
                  <pre class="code">{isText ? (t!.length > 20_000 ? `${t!.slice(0, 20_000)}\n…` : t) : hexDump(p.body, 0, 512)}</pre>
                </details>
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}

function HexPane({ bytes }: { bytes: Uint8Array }) {
  const [shown, setShown] = useState(HEX_PAGE);
  const dump = useMemo(() => hexDump(bytes, 0, shown), [bytes, shown]);
  return (
    <div>
      <pre class="code hex" data-testid="body-hex">{dump}</pre>
      {bytes.length > shown && (
        <p>
          Showing the first {formatBytes(shown)} of {formatBytes(bytes.length)}.{' '}
          <button type="button" class="btn btn-small" onClick={() => setShown(shown + HEX_PAGE * 4)}>
            Show more
          </button>
        </p>
      )}
    </div>
  );
}
