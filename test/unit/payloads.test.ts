// Issue 4: payloads have exactly the article's shape.
import { describe, expect, it } from 'vitest';
import type { Run } from '../../shared/api.ts';
import { bigId, syncEnd, syncStart, testEvent } from '../../server/dispatch/payloads.ts';
import { createRng } from '../../server/rng.ts';
import startSample from '../../fixtures/payloads/sync_start.json' with { type: 'json' };
import endSample from '../../fixtures/payloads/sync_end_succeeded.json' with { type: 'json' };

const run: Run = {
  id: 'run_1',
  flow_id: 6953148655,
  run_attempt_id: 28465238966,
  source_id: 36583775648,
  destination_id: 8583875986,
  source_type: 'hubspot_crm',
  destination_type: 'bigquery',
  outcome: 'SUCCESSFUL',
  details: 'sync completed successfully',
  startedAt: '2024-01-04T22:52:01.000Z',
  endsAt: '2024-01-04T22:52:21.000Z',
  ended: false,
};

describe('Portable payloads', () => {
  it('sync_start has the article\'s fields, in its order, and nothing else', () => {
    const p = syncStart(run, Date.parse('2024-01-04T22:52:01.345Z'));
    expect(Object.keys(p)).toEqual(Object.keys(startSample));
    expect(p).toEqual({ ...startSample, destination_id: run.destination_id, flow_id: run.flow_id, run_attempt_id: run.run_attempt_id, source_id: run.source_id });
    expect(p.created).toBe('2024-01-04T22:52:01Z'); // RFC 3339, seconds, Z
  });

  it('sync_end adds details and status', () => {
    const p = syncEnd(run, Date.parse('2024-01-04T22:52:21Z'));
    expect(Object.keys(p)).toEqual(Object.keys(endSample));
    expect(p).toMatchObject({ event: 'sync_end', status: 'SUCCESSFUL', details: 'sync completed successfully', created: '2024-01-04T22:52:21Z' });
  });

  it('a failed run says so, with a reason', () => {
    const p = syncEnd({ ...run, outcome: 'FAILED', details: 'source returned 401' }, 0);
    expect(p.status).toBe('FAILED');
    expect(p.details).toBe('source returned 401');
  });

  it('test events and ids look like the article\'s large integers', () => {
    const p = testEvent(0, createRng(1));
    expect(p.event).toBe('test');
    for (const k of ['destination_id', 'flow_id', 'run_attempt_id', 'source_id'] as const) {
      expect(Number.isSafeInteger(p[k])).toBe(true);
      expect(String(p[k]).length).toBeGreaterThanOrEqual(10);
    }
    expect(bigId(0)).toBe(1_000_000_000);
    expect(bigId(0.999999)).toBeLessThan(40_000_000_000);
  });
});
