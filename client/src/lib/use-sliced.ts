// Runs a SlicedJob a slice at a time between the browser's other work (as the JSON view
// formats a big body), re-rendering after each slice with what is read so far. A new job (or
// unmounting, as j/k steps to the next capture) stops the old one.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { SlicedJob } from './body-views.ts';

/** One slice: well under the 50 ms a long task starts at. */
export const SLICE_MS = 24;

export interface SlicedState<J extends SlicedJob<unknown>> {
  job: J;
  /**
   * The job's own list, only ever appended to: not copied on each slice (so a view drawn in
   * memoized chunks by index range redraws only the chunks that grew).
   */
  items: J['items'];
  /** How many items were read when this render was asked for. */
  count: number;
  done: boolean;
}

export function useSliced<J extends SlicedJob<unknown>>(make: () => J, deps: unknown[]): SlicedState<J> {
  const job = useMemo(make, deps);
  // The first slice runs at once: a small body is read whole before the first paint.
  const first = useMemo(() => (job.step(SLICE_MS), { job, count: job.items.length, done: job.done }), [job]);
  const [state, setState] = useState(first);
  useEffect(() => {
    if (job.done) return;
    let t: number | undefined;
    const run = () => {
      const done = job.step(SLICE_MS);
      setState({ job, count: job.items.length, done });
      if (!done) t = window.setTimeout(run, 0);
    };
    t = window.setTimeout(run, 0);
    return () => clearTimeout(t);
  }, [job]);
  // Until the new job's first slice is in state, its first result stands.
  const s = state.job === job ? state : first;
  return { ...s, items: job.items };
}
