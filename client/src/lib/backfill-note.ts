// What the bin page says after a reconnect filled in the captures that arrived meanwhile. Pure.
import { formatCount } from './format.ts';

/**
 * The note after a reconnect: how many captures arrived meanwhile and, with a filter, how many
 * of them match (null: not known, the list could not be read again); those are the rows added.
 */
export function backfillText(count: number, matched?: number | null): string {
  const n = `${formatCount(count)} request${count === 1 ? '' : 's'}`;
  if (matched === undefined) return `Reconnected: ${n} that arrived meanwhile ${count === 1 ? 'was' : 'were'} filled in.`;
  if (matched === null) return `Reconnected: ${n} arrived meanwhile; those that match the search were filled in.`;
  return `Reconnected: ${n} arrived meanwhile; ${matched === 0 ? 'none' : formatCount(matched)} match${matched === 1 ? 'es' : ''} the search${matched ? ` and ${matched === 1 ? 'was' : 'were'} filled in` : ''}.`;
}
