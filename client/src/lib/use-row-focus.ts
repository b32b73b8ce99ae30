// Keyboard focus for a form's list of rows (forward targets, signature schemes): removing a
// row with its ✕ would otherwise drop focus to <body>, and a row added by "+ Add" should take it.
import { type RefObject } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';

/**
 * Set `next.current` (a row's index, or 'add' for the "+ Add" button, `addBtn`) before the rows
 * change; focus moves to that row's field matching `selector` right after they render, before
 * the next key press can go astray.
 */
export function useRowFocus(form: RefObject<HTMLElement>, selector: string) {
  const next = useRef<number | 'add' | null>(null);
  const addBtn = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => {
    const want = next.current;
    if (want === null) return;
    next.current = null;
    const el = want === 'add' ? addBtn.current : form.current?.querySelectorAll<HTMLElement>(selector)[want];
    el?.focus();
  });
  return { next, addBtn };
}
