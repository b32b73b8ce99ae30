// The width of an element, kept current as it resizes: what the delivery timeline needs to
// know which of its codes fit.
import type { RefObject } from 'preact';
import { useLayoutEffect, useState } from 'preact/hooks';

/** Before the first measurement (and when the element has no width yet, e.g. hidden). */
const FALLBACK_PX = 600;

export function useElementWidth(ref: RefObject<Element>): number {
  const [w, setW] = useState(FALLBACK_PX);
  useLayoutEffect(() => {
    const el = ref.current!;
    const read = () => setW(el.getBoundingClientRect().width || FALLBACK_PX);
    read();
    const ro = new ResizeObserver(read);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return w;
}
