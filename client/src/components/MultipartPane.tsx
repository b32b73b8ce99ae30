// A multipart body part by part: each part's headers, its content (text, or a hex excerpt),
// a preview for images, and a download of the part's own bytes.
import { useState } from 'preact/hooks';
import { extensionFor } from '../../../shared/filename.ts';
import { dropInvisible, showInvisible } from '../lib/invisible-chars.ts';
import { type MultipartPart, decodeUtf8, hexDump, isProbablyText, multipartJob } from '../lib/body-views.ts';
import { bytesToString } from '../lib/byte-string.ts';
import { formatBytes } from '../lib/format.ts';
import { memo } from '../lib/memo.ts';
import { FIRST_PAGE, KEEP, MORE_PAGE, chunkRanges, showMore, windowStart } from '../lib/paging.ts';
import { useDrawn } from '../lib/use-drawn.ts';
import { useSliced } from '../lib/use-sliced.ts';
import { PairsTable } from './HeadersTable.tsx';
import { ShowMore } from './ShowMore.tsx';

/** Images shown inline up to this size (as a data: URL, which the page's policy allows). */
const PREVIEW_MAX = 5 * 1024 * 1024;
const PREVIEW_TYPES = /^image\/(png|jpeg|gif|webp|svg\+xml|avif|bmp|x-icon|vnd\.microsoft\.icon)$/;

const toBase64 = (bytes: Uint8Array): string => btoa(bytesToString(bytes));

/** Save bytes under a name, without a round trip (the part has no URL of its own). */
function download(bytes: Uint8Array, name: string, type: string) {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A filename from the sender, reduced to a plain name. */
const safeName = (s: string) => dropInvisible(s.replace(/[/\\]/g, '_').replace(/[\0-\x1f]/g, '')).slice(0, 200) || 'part';

export function MultipartPane({ bytes, contentType, requestId }: { bytes: Uint8Array; contentType: string | null; requestId: string }) {
  // Read a slice at a time and drawn a page at a time: 17,000 tiny parts at once froze the page for seconds.
  const { job, items, count, done } = useSliced(() => multipartJob(bytes, contentType), [bytes, contentType]);
  const [shown, setShown] = useState(FIRST_PAGE);
  const drawn = useDrawn(shown);
  const end = Math.min(drawn, count);
  // Only the last KEEP or so stay drawn: 17,138 parts in the page took 6-9 s to take out again.
  const from = windowStart(end);
  const back = Math.max(FIRST_PAGE, shown - MORE_PAGE);
  const fmt = (n: number) => n.toLocaleString('en-US');
  return (
    <div data-testid="multipart" data-complete={done ? 'true' : 'false'} data-drawn={end} data-from={from}>
      {done && job.error && (
        <p class="notice notice-warn" role="note">
          {job.error}
        </p>
      )}
      {from > 0 && (
        <p class="show-more muted small" data-testid="show-earlier">
          Parts 1–{fmt(from)} are not drawn (at most {fmt(KEEP)} are kept in the page).{' '}
          <button type="button" class="btn btn-small" onClick={() => setShown(back)} data-testid="show-earlier-button">
            Show {fmt(from - windowStart(back))} earlier
          </button>
        </p>
      )}
      {count > 0 && (
        <ol class="parts" start={from + 1}>
          {chunkRanges(end, count, undefined, from).map(([start, stop]) => (
            <Parts key={start} parts={items} start={start} end={stop} requestId={requestId} />
          ))}
        </ol>
      )}
      <ShowMore shown={shown} from={from} total={count} reading={!done} what="parts" onMore={() => setShown((s) => showMore(s, count))} />
    </div>
  );
}

/** Parts start..end-1 (numbered from 1 in the page), memoized: a "Show more" draws only the new ones. */
const Parts = memo(function Parts({ parts, start, end, requestId }: { parts: MultipartPart[]; start: number; end: number; requestId: string }) {
  return (
    <>
      {parts.slice(start, end).map((p, k) => (
        <Part key={start + k} p={p} i={start + k} requestId={requestId} />
      ))}
    </>
  );
});

function Part({ p, i, requestId }: { p: MultipartPart; i: number; requestId: string }) {
  const t = decodeUtf8(p.body);
  const isText = t !== null && isProbablyText(t);
  const type = (p.contentType ?? '').split(';')[0].trim().toLowerCase();
  const image = PREVIEW_TYPES.test(type) && p.size > 0 && p.size <= PREVIEW_MAX;
  const name = p.filename ? safeName(p.filename) : `${requestId}-part${i + 1}.${isText && !p.contentType ? 'txt' : extensionFor(p.contentType)}`;
  return (
    <li class="part" data-testid="multipart-part">
      <div class="part-head">
        <span class="part-n">{i + 1}.</span>
        <strong>{p.name !== null ? showInvisible(p.name) : `(part ${i + 1})`}</strong>
        {p.filename !== null && <span class="muted" data-testid="part-filename">file: {showInvisible(p.filename)}</span>}
        {p.contentType && <span class="muted">{p.contentType}</span>}
        <span class="size" data-testid="part-size">
          {formatBytes(p.size)}
          {p.size >= 1024 ? ` (${p.size.toLocaleString('en-US')} bytes)` : ''}
        </span>
        <button type="button" class="btn btn-small" onClick={() => download(p.body, name, p.contentType ?? 'application/octet-stream')} data-testid="part-download">
          Download part<span class="sr-only"> {i + 1}</span>
        </button>
      </div>
      <PairsTable pairs={p.headers} label={`Headers of part ${i + 1}`} testId="part-headers" empty="No headers." what="headers" />
      {image && <img class="part-image" src={`data:${type};base64,${toBase64(p.body)}`} alt={`Preview of ${showInvisible(p.filename ?? p.name ?? `part ${i + 1}`)}`} data-testid="part-image" />}
      {!image && (
        <details open={isText && p.size <= 2048}>
          <summary>{isText ? 'Content' : 'Content (hex, first 512 bytes)'}</summary>
          <pre class="code">{isText ? (t!.length > 20_000 ? `${t!.slice(0, 20_000)}\n…` : t) : hexDump(p.body, 0, 512)}</pre>
        </details>
      )}
    </li>
  );
}
