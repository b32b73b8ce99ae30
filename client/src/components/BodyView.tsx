// A body in every view that fits it: pretty JSON (or where its syntax breaks), a collapsible
// JSON tree, form fields, multipart parts, text (in the charset it declares), hex. Everything
// is rendered as text nodes, never as HTML. Big bodies never freeze the page: they are
// formatted a slice at a time and drawn in blocks the browser lays out only when they scroll
// into view.
import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  type BodyViewKind,
  availableViews,
  bodyBytes,
  decodeBody,
  excerptAround,
  formFieldsJob,
  hexDump,
  jsonView,
  lineColumn,
} from '../lib/body-views.ts';
import { TOO_DEEP_HEADING } from '../lib/json-limits.ts';
import { parseErrorOffset, prettyJsonBlocks, textBlocks } from '../lib/json-pretty.ts';
import { formatBytes } from '../lib/format.ts';
import { memo } from '../lib/memo.ts';
import { SLICE_MS, useSliced } from '../lib/use-sliced.ts';
import { CopyButton } from './CopyButton.tsx';
import { PairsTable } from './HeadersTable.tsx';
import { JsonTree } from './JsonTree.tsx';
import { MultipartPane } from './MultipartPane.tsx';

type ViewKind = BodyViewKind | 'tree';
const LABEL: Record<ViewKind, string> = { json: 'JSON', tree: 'Tree', form: 'Form', multipart: 'Multipart', text: 'Text', hex: 'Hex' };
const HEX_PAGE = 64 * 1024;
/** Above this many tokens, JSON is shown without colours. */
const MAX_TOKENS = 40_000;
/** Text longer than this is formatted in slices and drawn in blocks. */
export const LARGE_TEXT = 100_000;

interface Props {
  body: string;
  encoding: 'utf8' | 'base64';
  contentType: string | null;
  /** For naming a multipart part's download. */
  requestId: string;
  /** Only the first bytes were stored (MAX_BODY_BYTES): JSON that stops short was cut, not sent broken. */
  truncated?: boolean;
}

type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

/** Ids for the tabs and their panel: a page can show several bodies (a request's, a forward's answer). */
let viewSeq = 0;

export function BodyView({ body, encoding, contentType, requestId, truncated }: Props) {
  const bytes = useMemo(() => bodyBytes(body, encoding), [body, encoding]);
  // In the charset the Content-Type declares (a latin-1 or UTF-16 body is text too), else UTF-8.
  const decoded = useMemo(() => decodeBody(bytes, contentType, encoding === 'utf8' ? body : undefined), [body, encoding, bytes, contentType]);
  const text = decoded?.text ?? null;
  const base = useMemo(() => availableViews(contentType, text, bytes.length), [contentType, text, bytes.length]);
  // Native JSON.parse decides validity fast (the tree view needs the value anyway).
  const parsed = useMemo<Parsed | null>(() => {
    if (!base.includes('json') || text === null) return null;
    try {
      // A byte order mark is tolerated, as the pretty view does.
      return { ok: true, value: JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) };
    } catch (e) {
      return { ok: false, message: (e as Error).message };
    }
  }, [base, text]);
  const views = useMemo<ViewKind[]>(() => {
    if (!parsed?.ok) return base;
    const v: ViewKind[] = [...base];
    v.splice(v.indexOf('json') + 1, 0, 'tree');
    return v;
  }, [base, parsed]);
  const [chosen, setChosen] = useState<ViewKind | null>(null);
  const [wrap, setWrap] = useState(true);
  const [uid] = useState(() => `bv${++viewSeq}`);
  const view = chosen && views.includes(chosen) ? chosen : views[0];
  const tabId = (v: ViewKind) => `${uid}-tab-${v}`;

  if (bytes.length === 0) return <p class="muted" data-testid="body-empty">No body.</p>;

  const onTabKey = (e: KeyboardEvent) => {
    const i = views.indexOf(view);
    let next = -1;
    if (e.key === 'ArrowRight') next = (i + 1) % views.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + views.length) % views.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = views.length - 1;
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
              id={tabId(v)}
              aria-controls={`${uid}-panel`}
              aria-selected={v === view}
              tabIndex={v === view ? 0 : -1}
              data-testid={`view-${v}`}
              onClick={() => setChosen(v)}
              onKeyDown={onTabKey}
            >
              {v === 'text' && decoded?.charset ? `${LABEL.text} (${decoded.charset})` : LABEL[v]}
            </button>
          ))}
        </div>
        <div class="body-tools">
          {text !== null ? (
            <CopyButton text={() => text} label="Copy body" class="btn-small" testId="copy-body" />
          ) : (
            <button type="button" class="btn btn-small" disabled title="A binary body: use Download raw body" data-testid="copy-body">
              Copy body
            </button>
          )}
          <label class="check small">
            <input type="checkbox" checked={wrap} onChange={(e) => setWrap((e.target as HTMLInputElement).checked)} /> Wrap lines
          </label>
        </div>
      </div>
      <div role="tabpanel" id={`${uid}-panel`} aria-labelledby={tabId(view)} class={wrap ? 'wrap' : 'nowrap'} data-testid="body-panel" data-view={view}>
        {view === 'json' && (truncated && parsed && !parsed.ok ? <CutJson text={text ?? ''} /> : <JsonPane text={text ?? ''} parsed={parsed} />)}
        {view === 'tree' && parsed?.ok && <JsonTree text={text ?? ''} value={parsed.value} />}
        {view === 'form' && <FormPane text={text ?? ''} />}
        {view === 'multipart' && <MultipartPane bytes={bytes} contentType={contentType} requestId={requestId} />}
        {view === 'text' && (
          <>
            {decoded?.charset && (
              <p class="muted small" style={{ margin: '0.5rem 0' }} data-testid="body-charset" data-charset={decoded.charset}>
                Decoded from {decoded.charset}, the charset its Content-Type declares
                {decoded.decodedAs ? ` (read as ${decoded.decodedAs}, as browsers do)` : ''}. Hex shows the bytes as sent.
              </p>
            )}
            <TextPane text={text ?? ''} />
          </>
        )}
        {view === 'hex' && <HexPane bytes={bytes} />}
      </div>
    </div>
  );
}

/** Long text in blocks of lines: off-screen blocks cost no layout (content-visibility). */
function Blocks({ blocks, testId, done = true }: { blocks: string[]; testId: string; done?: boolean }) {
  return (
    <pre class="code body-code" data-testid={testId} data-blocks={blocks.length} data-complete={done ? 'true' : 'false'}>
      {blocks.map((b, i) => (
        <span key={i} class="code-block" style={{ containIntrinsicSize: `auto ${Math.max(1, countLines(b)) * 20}px` }}>
          {b}
        </span>
      ))}
    </pre>
  );
}

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function TextPane({ text }: { text: string }) {
  const blocks = useMemo(() => (text.length > LARGE_TEXT ? textBlocks(text) : null), [text]);
  if (blocks) return <Blocks blocks={blocks} testId="body-text" />;
  return <pre class="code body-code" data-testid="body-text">{text}</pre>;
}

/** Form fields, read a slice at a time (URLSearchParams took ~200 ms over 120,000 fields) and drawn a page at a time. */
function FormPane({ text }: { text: string }) {
  const { items, count, done } = useSliced(() => formFieldsJob(text), [text]);
  return <PairsTable pairs={items} count={count} reading={!done} label="Form fields" testId="form-fields" empty="No fields." what="fields" />;
}

function JsonPane({ text, parsed }: { text: string; parsed: Parsed | null }) {
  const large = text.length > LARGE_TEXT;
  if (large && parsed?.ok) return <LargePrettyJson text={text} />;
  if (large && parsed && !parsed.ok) return <LargeJsonError text={text} message={parsed.message} offset={parseErrorOffset(parsed.message, text)} />;
  return <SmallJson text={text} />;
}

/** Formatted a slice at a time; the first blocks show while the rest is done. */
function LargePrettyJson({ text }: { text: string }) {
  const [blocks, setBlocks] = useState<string[]>([]);
  const [done, setDone] = useState(false);
  const [tooDeep, setTooDeep] = useState<{ message: string; offset: number } | null>(null);
  useEffect(() => {
    const job = prettyJsonBlocks(text);
    setTooDeep(null);
    let t: number | undefined;
    const run = () => {
      const finished = job.step(SLICE_MS);
      setBlocks(job.blocks.slice());
      setTooDeep(job.tooDeep);
      if (finished) setDone(true);
      else t = window.setTimeout(run, 0);
    };
    t = window.setTimeout(run, 0);
    return () => clearTimeout(t);
  }, [text]);
  if (tooDeep) return <LargeJsonError text={text} message={tooDeep.message} offset={tooDeep.offset} heading={TOO_DEEP_HEADING} />;
  return <Blocks blocks={blocks} testId="json-pretty" done={done} />;
}

/** JSON cut at MAX_BODY_BYTES: it ends mid-document, so "not valid" would blame the sender. */
function CutJson({ text }: { text: string }) {
  const blocks = useMemo(() => textBlocks(text), [text]);
  return (
    <div>
      <p class="notice notice-warn" data-testid="json-cut" role="note">
        <strong>Incomplete JSON:</strong> the body was cut where hooklab stopped storing it (MAX_BODY_BYTES), so it ends mid-document and cannot be formatted.
        The stored text is shown as is.
      </p>
      <Blocks blocks={blocks} testId="body-text" />
    </div>
  );
}

function LargeJsonError({ text, message, offset, heading = 'Not valid JSON' }: { text: string; message: string; offset: number | null; heading?: string }) {
  const blocks = useMemo(() => textBlocks(text), [text]);
  const at = offset === null ? null : { ...lineColumn(text, offset), ex: excerptAround(text, offset) };
  return (
    <div>
      <div class="notice notice-bad" data-testid="json-error" role="note">
        <strong>{heading}</strong>
        {at ? ` — line ${at.line}, column ${at.column}` : ''}: {message}
        {at && (
          <pre class="code excerpt" aria-label="Where the error is">
            {at.ex.cutStart ? '…' : ''}
            {at.ex.before}
            <mark class="err-at" data-testid="json-error-at">{at.ex.at || ' '}</mark>
            {at.ex.after}
            {at.ex.cutEnd ? '…' : ''}
          </pre>
        )}
      </div>
      <Blocks blocks={blocks} testId="body-text" />
    </div>
  );
}

function SmallJson({ text }: { text: string }) {
  const v = useMemo(() => jsonView(text), [text]);
  if (!v.ok) {
    const ex = excerptAround(text, v.error.offset);
    return (
      <div>
        <div class="notice notice-bad" data-testid="json-error" role="note">
          <strong>{v.error.tooDeep ? TOO_DEEP_HEADING : 'Not valid JSON'}</strong> — line {v.error.line}, column {v.error.column}: {v.error.message}
          <pre class="code excerpt" aria-label="Where the error is">
            {ex.cutStart ? '…' : ''}
            {ex.before}
            <mark class="err-at" data-testid="json-error-at">{ex.at || ' '}</mark>
            {ex.after}
            {ex.cutEnd ? '…' : ''}
          </pre>
        </div>
        <pre class="code body-code" data-testid="body-text">{text}</pre>
      </div>
    );
  }
  if (v.tokens.length > MAX_TOKENS) return <pre class="code body-code" data-testid="json-pretty">{v.pretty}</pre>;
  return (
    <pre class="code body-code json" data-testid="json-pretty">
      {v.tokens.map((t, i) => (t.k === 'space' || t.k === 'punct' ? t.s : <span key={i} class={`j-${t.k}`}>{t.s}</span>))}
    </pre>
  );
}

/** Hex lines per block (16 bytes a line): each block is dumped once and laid out only on screen. */
const HEX_BLOCK = 16 * 1024;

function HexPane({ bytes }: { bytes: Uint8Array }) {
  const [shown, setShown] = useState(HEX_PAGE);
  const end = Math.min(shown, bytes.length);
  const starts: number[] = [];
  for (let s = 0; s < end; s += HEX_BLOCK) starts.push(s);
  return (
    <div>
      {/* One text node of 1 MiB's dump took a second to lay out on each "Show more": blocks instead. */}
      <pre class="code body-code hex" data-testid="body-hex" data-bytes={end}>
        {starts.map((s) => (
          <HexBlock key={s} bytes={bytes} start={s} end={Math.min(end, s + HEX_BLOCK)} last={s + HEX_BLOCK >= end} />
        ))}
      </pre>
      {bytes.length > shown && (
        <p>
          Showing the first {formatBytes(shown)} of {formatBytes(bytes.length)}.{' '}
          <button type="button" class="btn btn-small" onClick={() => setShown((s) => s + HEX_PAGE * 2)} data-testid="hex-more">
            Show more
          </button>
        </p>
      )}
    </div>
  );
}

const HexBlock = memo(function HexBlock({ bytes, start, end, last }: { bytes: Uint8Array; start: number; end: number; last: boolean }) {
  const lines = Math.ceil((end - start) / 16);
  return (
    <span class="code-block" style={{ containIntrinsicSize: `auto ${lines * 20}px` }}>
      {hexDump(bytes, start, end - start) + (last ? '' : '\n')}
    </span>
  );
});
