// Bin ids are told apart regardless of letter case. Each bin's captures live in a directory
// named by its id under DATA_DIR, and on a case-insensitive disk (macOS's and Windows' by
// default) "Orders" and "orders" would share one: their captures mixed, and deleting one
// marked the other's files deleted. Random ids (21 characters) never meet this; chosen ones may.

/** The id of a bin in `others` that differs from `id` only in letter case, or null. */
export function caseTwin(id: string, others: Iterable<{ id: string }>): string | null {
  const folded = id.toLowerCase();
  for (const b of others) if (b.id !== id && b.id.toLowerCase() === folded) return b.id;
  return null;
}

export const CASE_TWIN_REASON = 'bin ids are told apart regardless of letter case (each names a directory under DATA_DIR, and a disk may not tell them apart)';
