// A visually hidden live region fed by a CalmAnnouncer: screen readers hear the page's news
// at most once every few seconds (see calm-announcer.ts).
import { useEffect, useRef, useState } from 'preact/hooks';
import { ANNOUNCE_INTERVAL_MS, CalmAnnouncer } from '../lib/calm-announcer.ts';

interface Said {
  text: string;
  seq: number;
}

/**
 * The region's message and a poke for "something new happened". `compose` is read when an
 * announcement is due (the latest one is used), so it can sum up everything since the last.
 */
export function useAnnouncer(compose: () => string | null, intervalMs = ANNOUNCE_INTERVAL_MS): [Said | null, () => void] {
  const [said, setSaid] = useState<Said | null>(null);
  const latest = useRef(compose);
  latest.current = compose;
  const [announcer] = useState(() => new CalmAnnouncer(() => latest.current(), (text) => setSaid((s) => ({ text, seq: (s?.seq ?? 0) + 1 })), intervalMs));
  useEffect(() => () => announcer.stop(), []);
  return [said, () => announcer.poke()];
}

/** Always in the DOM (a region added with its text is often not read); each message a new node, so the same words twice are read twice. */
export function Announcer({ said, testId }: { said: Said | null; testId: string }) {
  return (
    <p class="sr-only" role="status" data-testid={testId}>
      {said && <span key={said.seq}>{said.text}</span>}
    </p>
  );
}
