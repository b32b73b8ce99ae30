// What an export of a bin says about the captures it set out to hold and could not: the
// server writes it (an answer header and trailer, a HAR's comment) and `hooklab export` reads it.

/** An export's answer header: how many captures it set out to hold (the bin's, or the ids asked for). */
export const EXPORT_COUNT_HEADER = 'x-hooklab-export-count';
/** Its trailer: how many of those it does not hold (gone when their turn came). */
export const EXPORT_MISSING_HEADER = 'x-hooklab-export-missing';

/** What an export says of captures it set out to hold and could not; `asked`: by their ids. */
export function exportMissingNote(missing: number, asked: boolean): string {
  const n = `${missing} capture${missing === 1 ? '' : 's'}`;
  return asked
    ? `${n} asked for ${missing === 1 ? 'is' : 'are'} not in the bin (deleted, evicted, or never there): not in this export`
    : `${n} left the bin while it was exported (evicted by newer ones, or deleted): not in this export`;
}
