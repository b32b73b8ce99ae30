// The timeline's CSV: RFC 4180 quoting, and no formula for a spreadsheet to run. A webhook
// named "=HYPERLINK(…)" (any API user can name one) was written as it was.
import { describe, expect, it } from 'vitest';
import { timelineCsv } from '../../server/dispatch/timeline-export.ts';

type T = Parameters<typeof timelineCsv>[0];
const attempt = { n: 1, status: 'done', reason: 'first', reasonDetail: null, plannedAt: '2026-01-01T00:00:00.000Z', sentAt: '2026-01-01T00:00:00.000Z', offsetMs: 0, lateMs: -3, httpStatus: 500, error: null, ok: false, durationMs: 12, manual: false, capturedRequestId: null };
const delivery = (webhookName: string, reasonDetail: string | null = null) => ({
  id: 'dl_1', runId: null, event: 'test', webhookName, url: 'http://127.0.0.1:1/h/x', state: 'failed', endReason: 'deadline', createdAt: '2026-01-01T00:00:00.000Z', deadlineAt: '2026-01-02T00:00:00.000Z',
  attempts: [{ ...attempt, reasonDetail }],
});

describe('timelineCsv', () => {
  it('a text that would start a formula gets a leading quote; numbers, negative ones too, stay as they are', () => {
    const csv = timelineCsv({ deliveries: [delivery('=HYPERLINK("http://evil.example","x")', '@SUM(1)'), delivery('+1', '-x')] } as unknown as T);
    const rows = csv.trimEnd().split('\r\n').slice(1);
    expect(rows[0]).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(rows[0]).toContain(",'@SUM(1),");
    expect(rows[1]).toContain(",'+1,");
    expect(rows[1]).toContain(",'-x,");
    // late_ms -3 is a number: no quote.
    expect(rows[0]).toMatch(/,0,-3,500,/);
  });

  it('plain texts are written as they are, quoted only for a comma, a quote or a line break', () => {
    const csv = timelineCsv({ deliveries: [delivery('orders, prod', 'said "no"')] } as unknown as T);
    const row = csv.trimEnd().split('\r\n')[1];
    expect(row).toContain(',"orders, prod",');
    expect(row).toContain(',"said ""no""",');
  });

  it('says why a delivery ended, in words, beside its end reason', () => {
    const d = { ...delivery('orders'), endReason: 'webhook_disabled', endDetail: 'the webhook was disabled, by the API' };
    const [head, row] = timelineCsv({ deliveries: [d] } as unknown as T).trimEnd().split('\r\n');
    expect(head).toContain(',end_reason,end_detail,');
    expect(row).toContain(',webhook_disabled,"the webhook was disabled, by the API",');
  });
});
