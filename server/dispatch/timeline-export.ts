// A delivery's (or a run's) timeline as data: one row per attempt made and per attempt still
// planned, with virtual times, lateness, result and why. JSON for programs, CSV for sheets.
import type { Delivery, Timeline, TimelineAttempt } from '../../shared/api.ts';
import { plannedAttempts } from '../../shared/planned-attempts.ts';
import { plannedReason } from './attempt-outcome.ts';

export function deliveryTimeline(d: Delivery): Timeline['deliveries'][number] {
  const created = Date.parse(d.createdAt);
  const rows: TimelineAttempt[] = d.attempts.map((a) => ({
    n: a.n,
    status: 'made',
    reason: a.reason ?? null,
    reasonDetail: a.reasonDetail ?? null,
    plannedAt: a.plannedAt,
    sentAt: a.sentAt,
    offsetMs: Date.parse(a.sentAt) - created,
    lateMs: Date.parse(a.sentAt) - Date.parse(a.plannedAt),
    httpStatus: a.status,
    error: a.error,
    ok: a.ok,
    durationMs: a.durationMs,
    manual: a.manual,
    capturedRequestId: a.capturedRequestId,
  }));
  const plan = d.plannedAt.map(Date.parse);
  const next = d.nextAttemptAt === null ? null : Date.parse(d.nextAttemptAt);
  for (const { n, index: i, at } of plannedAttempts(d)) {
    const why = at === next && d.nextReason ? { reason: d.nextReason, detail: d.nextReasonDetail ?? null } : plannedReason(d, plan, i);
    rows.push({
      n,
      status: 'planned',
      reason: why.reason,
      reasonDetail: why.detail,
      plannedAt: d.plannedAt[i],
      sentAt: null,
      offsetMs: at - created,
      lateMs: null,
      httpStatus: null,
      error: null,
      ok: null,
      durationMs: null,
      manual: false,
      capturedRequestId: null,
    });
  }
  return {
    id: d.id,
    runId: d.runId,
    event: d.event,
    webhookId: d.webhookId,
    webhookName: d.webhookName,
    url: d.url,
    binId: d.binId,
    webhookMessageId: d.webhookMessageId,
    state: d.state,
    endReason: d.endReason,
    endDetail: d.endDetail ?? null,
    createdAt: d.createdAt,
    deadlineAt: new Date(created + d.schedule.deadlineMs).toISOString(),
    schedule: d.schedule,
    attempts: rows,
  };
}

const COLUMNS = [
  'delivery_id', 'run_id', 'event', 'webhook', 'url', 'delivery_state', 'end_reason', 'end_detail', 'event_at', 'deadline_at',
  'attempt', 'status', 'reason', 'reason_detail', 'planned_at', 'sent_at', 'offset_ms', 'late_ms', 'http_status', 'error', 'ok', 'duration_ms', 'manual', 'captured_request_id',
] as const;

/**
 * RFC 4180: quote a field when it holds a comma, a quote or a line break. A text that a
 * spreadsheet would take for a formula (=, +, -, @, a tab or CR first: a webhook named
 * "=HYPERLINK(…)") gets a leading ' (OWASP's CSV injection advice); numbers stay numbers.
 */
function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function timelineCsv(t: Timeline): string {
  const lines = [COLUMNS.join(',')];
  for (const d of t.deliveries) {
    for (const a of d.attempts) {
      const row = [
        d.id, d.runId, d.event, d.webhookName, d.url, d.state, d.endReason, d.endDetail, d.createdAt, d.deadlineAt,
        a.n, a.status, a.reason, a.reasonDetail, a.plannedAt, a.sentAt, a.offsetMs, a.lateMs, a.httpStatus, a.error, a.ok, a.durationMs, a.manual, a.capturedRequestId,
      ];
      lines.push(row.map(cell).join(','));
    }
  }
  return lines.join('\r\n') + '\r\n';
}
