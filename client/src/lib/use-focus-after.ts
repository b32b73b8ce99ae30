// Keyboard focus across a re-render: the element a key press acted on can go away (a closed
// form, a removed row) or stop being the one the user means (a moved row keyed by its index).
import { type RefObject } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';

interface Want {
  selector: string;
  /** Only when the focus was lost (on <body>): a click elsewhere meanwhile is left alone. */
  ifLost: boolean;
}

/**
 * `focusAfter(selector)` before a state change: once the component has rendered (before the
 * next key press), the first element under `root` matching `selector` takes the focus. With
 * `ifLost`, a selector not matching yet is tried again on the following renders for as long
 * as the focus stays lost (what it names may come with a later answer).
 */
export function useFocusAfter(root: RefObject<HTMLElement>) {
  const want = useRef<Want | null>(null);
  useLayoutEffect(() => {
    const w = want.current;
    if (!w) return;
    const lost = !document.activeElement || document.activeElement === document.body;
    if (w.ifLost && !lost) {
      want.current = null;
      return;
    }
    const el = root.current?.querySelector<HTMLElement>(w.selector);
    if (!el && w.ifLost) return;
    want.current = null;
    el?.focus();
  });
  return (selector: string, opts: { ifLost?: boolean } = {}) => {
    want.current = { selector, ifLost: !!opts.ifLost };
  };
}
