// Portable-shaped event bodies, field for field as in the article (keys in its order).
import type { PortablePayload, Run, RunOutcome } from '../../shared/api.ts';
import { isoSeconds } from '../time.ts';

/** A large integer id like the article's (10-11 digits), from a uniform draw. */
export function bigId(u: number): number {
  return 1_000_000_000 + Math.floor(u * 39_000_000_000);
}

export const FAILURE_DETAILS = 'sync failed: source returned HTTP 401 Unauthorized (credentials expired)';
export const SUCCESS_DETAILS = 'sync completed successfully';

export function detailsFor(outcome: RunOutcome, given?: string): string {
  return given ?? (outcome === 'SUCCESSFUL' ? SUCCESS_DETAILS : FAILURE_DETAILS);
}

export function syncStart(run: Run, createdMs: number): PortablePayload {
  return {
    created: isoSeconds(createdMs),
    destination_id: run.destination_id,
    destination_type: run.destination_type,
    event: 'sync_start',
    flow_id: run.flow_id,
    run_attempt_id: run.run_attempt_id,
    source_id: run.source_id,
    source_type: run.source_type,
  };
}

export function syncEnd(run: Run, createdMs: number): PortablePayload {
  return {
    created: isoSeconds(createdMs),
    destination_id: run.destination_id,
    destination_type: run.destination_type,
    details: run.details,
    event: 'sync_end',
    flow_id: run.flow_id,
    run_attempt_id: run.run_attempt_id,
    source_id: run.source_id,
    source_type: run.source_type,
    status: run.outcome,
  };
}

/** The Test button's event: same shape, sample ids, `event: "test"`. */
export function testEvent(createdMs: number, rng: () => number): PortablePayload {
  return {
    created: isoSeconds(createdMs),
    destination_id: bigId(rng()),
    destination_type: 'bigquery',
    details: 'test event from hooklab',
    event: 'test',
    flow_id: bigId(rng()),
    run_attempt_id: bigId(rng()),
    source_id: bigId(rng()),
    source_type: 'hubspot_crm',
  };
}
