// How many rows of a paged list to draw now: after a "Show more" the new rows come one chunk
// per task rather than all at once (1,000 multipart parts in one go were a 1.2 s task on a
// slow CPU). With the chunks memoized, each task draws only its own chunk.
import { useEffect, useState } from 'preact/hooks';
import { CHUNK } from './paging.ts';

export function useDrawn(shown: number, chunk = CHUNK): number {
  const [drawn, setDrawn] = useState(shown);
  useEffect(() => {
    if (drawn >= shown) return;
    const t = window.setTimeout(() => setDrawn(Math.min(shown, drawn + chunk)), 0);
    return () => clearTimeout(t);
  }, [drawn, shown, chunk]);
  // Fewer to show (never by a press, but by a new list) takes effect at once.
  return Math.min(drawn, shown);
}
