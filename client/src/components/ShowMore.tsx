// "Showing 200 of 17,138 parts. [Show 1,000 more]" under a long list drawn a page at a time.
import { MORE_PAGE } from '../lib/paging.ts';

interface Props {
  shown: number;
  /** Known so far; `reading` while more are still being read. */
  total: number;
  reading?: boolean;
  what: string;
  onMore: () => void;
  /** The rows before this one are not drawn (a window of a very long list). */
  from?: number;
}

export function ShowMore({ shown, total, reading, what, onMore, from = 0 }: Props) {
  if (shown >= total && !reading) return null;
  const more = Math.min(MORE_PAGE, total - shown);
  const fmt = (n: number) => n.toLocaleString('en-US');
  return (
    <p class="show-more muted small" data-testid="show-more" data-shown={Math.min(shown, total)} data-total={total} data-reading={reading ? 'true' : 'false'}>
      Showing {from > 0 ? `${fmt(from + 1)}–` : ''}
      {fmt(Math.min(shown, total))} of {fmt(total)}
      {reading ? '+' : ''} {what}
      {reading ? ' (still reading)' : ''}.{' '}
      {more > 0 && (
        <button type="button" class="btn btn-small" onClick={onMore} data-testid="show-more-button">
          Show {fmt(more)} more
        </button>
      )}
    </p>
  );
}
