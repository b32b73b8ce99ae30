// The height of a scrolling element, kept current as it resizes: what a virtual list needs to
// know how many rows to draw.
import { type RefObject } from 'preact';
import { useLayoutEffect, useState } from 'preact/hooks';

/** Before the first measurement (and when the element has no height yet, e.g. hidden). */
const FALLBACK_PX = 600;

export function useViewHeight(ref: RefObject<HTMLElement>): number {
  const [h, setH] = useState(FALLBACK_PX);
  useLayoutEffect(() => {
    const el = ref.current!;
    setH(el.clientHeight || FALLBACK_PX);
    const ro = new ResizeObserver(() => setH(el.clientHeight || FALLBACK_PX));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return h;
}
