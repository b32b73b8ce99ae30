// Which forward targets are the same place: a capture goes to the target's origin, path and
// query with its sub-path joined on, and the join drops a trailing "/" of the target's path
// (server/forward/request.ts `destination`); a #fragment is never sent at all. Two targets that
// differ only there get every capture twice.

/** A target as it is used: fragment dropped, no trailing "/" on the path (not a URL: as it is). */
export function targetKey(url: string): string {
  // The schema's own checks may have failed already (its refinements still run): no throw here.
  if (!URL.canParse(url)) return url;
  const u = new URL(url);
  return u.origin + u.pathname.replace(/\/$/, '') + u.search;
}

/** Whether `url` (normalised by URL parsing) has a fragment, empty ("…#") included. */
export const hasFragment = (url: string) => url.includes('#');

export const FRAGMENT_REASON = 'must not have a #fragment: it is never sent to the target (remove it)';

/**
 * Targets as a save takes them now: each place once (the first kept) and no fragment. Builds
 * before those checks stored either, and every capture went twice to such a place.
 */
export function usableTargets<T extends { url: string }>(targets: readonly T[]): { targets: T[]; changed: boolean } {
  const seen = new Set<string>();
  const out: T[] = [];
  let changed = false;
  for (const t of targets) {
    const url = hasFragment(t.url) ? t.url.slice(0, t.url.indexOf('#')) : t.url;
    const key = targetKey(url);
    if (url !== t.url) changed = true;
    if (seen.has(key)) {
      changed = true;
      continue;
    }
    seen.add(key);
    out.push(url === t.url ? t : { ...t, url });
  }
  return { targets: out, changed };
}
