// A button that is off for now (its action is out, or there is nothing to do yet) but keeps
// the keyboard focus: a `disabled` button drops the focus to <body> in Chromium, and the next
// key press then goes nowhere.
import type { JSX } from 'preact';

type Props = JSX.ButtonHTMLAttributes<HTMLButtonElement> & {
  /** Shown off (aria-disabled) and its clicks ignored, a submit button's too. */
  off: boolean;
};

/**
 * `disabled` stays for what cannot be done at all (a deleted bin). A form whose Save is one of
 * these still submits on Enter in a field: its submit handler checks that it is not busy.
 */
export function KeepFocusButton({ off, onClick, ...rest }: Props) {
  return (
    <button
      {...rest}
      aria-disabled={off ? 'true' : undefined}
      onClick={(e) => {
        if (off) e.preventDefault();
        else onClick?.(e);
      }}
    />
  );
}
