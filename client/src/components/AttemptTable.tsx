// The attempt table under a delivery's timeline: each attempt's planned and sent time
// (virtual, since the event), how late it went, why it went then, what came back, how long
// it took (real), and the captured request when the receiver is one of our bins.
import { memo } from '../lib/memo.ts';
import type { Delivery } from '../../../shared/api.ts';
import { formatDuration } from '../lib/format.ts';
import { Link, paths } from '../lib/router.ts';
import { attemptRows } from '../lib/timeline.ts';

const rel = (t: number) => (t === 0 ? '0' : `+${formatDuration(t)}`);

export const AttemptTable = memo(function AttemptTable({ d, onSelect }: { d: Delivery; onSelect: (n: number) => void }) {
  const rows = attemptRows(d);
  if (rows.length === 0) return null;
  return (
    <div class="attempt-table-wrap">
      <table class="attempt-table" data-testid="attempt-table">
        <caption class="visually-hidden">Attempts of this delivery (times are virtual, after the event)</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Why then</th>
            <th scope="col">Planned</th>
            <th scope="col">Sent</th>
            <th scope="col">Late</th>
            <th scope="col">Result</th>
            <th scope="col" class="col-took">Took</th>
            <th scope="col">Capture</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.n} data-attempt-row={r.n}>
              <td>
                <button type="button" class="linkish" onClick={() => onSelect(r.n)} aria-label={`Show attempt ${r.n}`}>
                  {r.n}
                </button>
              </td>
              <td title={r.reasonDetail ?? undefined}>
                {r.reason}
                {r.planNote && <div class="muted small" data-testid="plan-note">{r.planNote}</div>}
              </td>
              <td class="num">{rel(r.plannedT)}</td>
              <td class="num">{rel(r.sentT)}</td>
              <td class={`num${r.lateMs > 0 ? ' tone-text-warn' : ''}`} data-late-ms={r.lateMs}>
                {r.lateMs > 0 ? formatDuration(r.lateMs) : 'on time'}
              </td>
              <td class={`tone-text-${r.tone}`}>{r.result}</td>
              <td class="num col-took">{formatDuration(r.durationMs)}</td>
              <td>
                {r.capturedRequestId && d.binId ? (
                  <Link href={paths.request(d.binId, r.capturedRequestId)} data-testid="row-capture-link">
                    open
                  </Link>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
});
