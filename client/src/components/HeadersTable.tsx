import { useState } from 'preact/hooks';
import type { HeaderCharset, HeaderPair } from '../../../shared/api.ts';
import { showInvisible } from '../lib/invisible-chars.ts';
import { memo } from '../lib/memo.ts';
import { FIRST_PAGE, chunkRanges, showMore } from '../lib/paging.ts';
import { useDrawn } from '../lib/use-drawn.ts';
import { ShowMore } from './ShowMore.tsx';

interface Props {
  pairs: HeaderPair[];
  label: string;
  testId?: string;
  empty?: string;
  /** More pairs are still being read (a big form body): `pairs` is then appended to, `count` of them read so far. */
  reading?: boolean;
  count?: number;
  /** What the rows are, for "Showing 200 of 120,000 fields". */
  what?: string;
  /** Header values: how each was made text from its bytes (RequestDetail.headerCharsets). */
  charsets?: readonly HeaderCharset[];
}

/** Values not plain ASCII say how they were made text: a UTF-8 "é" and a Latin-1 one look alike. */
const CHARSET_MARK = {
  utf8: { label: 'UTF-8', title: 'Its bytes are UTF-8, shown decoded; replay and Copy as cURL send these bytes' },
  latin1: { label: 'Latin-1', title: 'Its bytes are not UTF-8: each byte is shown as one Latin-1 character; replay and Copy as cURL send these bytes' },
} as const;

/**
 * Name/value pairs in order, repeats kept, shown as text. A long list is drawn a page at a
 * time, in tables of CHUNK rows whose off-screen ones cost no layout (one table of 30,000
 * rows took ~0.5 s to lay out again on each "Show more").
 */
export function PairsTable({ pairs, label, testId, empty = 'None', reading, count = pairs.length, what = 'rows', charsets }: Props) {
  const [shown, setShown] = useState(FIRST_PAGE);
  const drawn = useDrawn(shown);
  if (count === 0 && !reading) return <p class="muted">{empty}</p>;
  const ranges = chunkRanges(drawn, count);
  return (
    <>
      {ranges.length <= 1 ? (
        <table class="pairs" aria-label={label} data-testid={testId}>
          <PairRows pairs={pairs} start={0} end={Math.min(drawn, count)} charsets={charsets} />
        </table>
      ) : (
        <div role="group" aria-label={label} data-testid={testId}>
          {ranges.map(([start, end]) => (
            <div key={start} class="pairs-chunk" style={{ containIntrinsicSize: `auto ${(end - start) * 26}px` }}>
              <table class="pairs" aria-label={`${label}, ${start + 1}–${end}`}>
                <PairRows pairs={pairs} start={start} end={end} charsets={charsets} />
              </table>
            </div>
          ))}
        </div>
      )}
      <ShowMore shown={shown} total={count} reading={reading} what={what} onMore={() => setShown((s) => showMore(s, count))} />
    </>
  );
}
const PairRows = memo(function PairRows({ pairs, start, end, charsets }: { pairs: HeaderPair[]; start: number; end: number; charsets?: readonly HeaderCharset[] }) {
  return (
    <tbody>
      {pairs.slice(start, end).map(([name, value], i) => {
        const c = charsets?.[start + i];
        const mark = c === 'utf8' || c === 'latin1' ? CHARSET_MARK[c] : null;
        return (
          <tr key={i}>
            <th scope="row">{showInvisible(name)}</th>
            <td data-charset={mark ? c : undefined}>
              {showInvisible(value)}
              {mark && (
                <>
                  {' '}
                  <span class="badge tone-muted charset-mark" title={mark.title}>
                    {mark.label}
                  </span>
                </>
              )}
            </td>
          </tr>
        );
      })}
    </tbody>
  );
});
