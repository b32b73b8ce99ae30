import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

interface Props {
  onConfirm: () => void | Promise<void>;
  children: ComponentChildren;
  /** What the armed button says (markup allowed: hidden words that name what it deletes). */
  confirmLabel: ComponentChildren;
  class?: string;
  testId?: string;
  disabled?: boolean;
  title?: string;
}

/** A destructive action in two clicks: the first arms it for a few seconds, the second does it. */
export function ConfirmButton({ onConfirm, children, confirmLabel, class: cls = '', testId, disabled, title }: Props) {
  const [armed, setArmed] = useState(false);
  const timer = useRef<number>();
  useEffect(() => () => clearTimeout(timer.current), []);
  const click = async () => {
    if (!armed) {
      setArmed(true);
      clearTimeout(timer.current);
      timer.current = window.setTimeout(() => setArmed(false), 4000);
      return;
    }
    clearTimeout(timer.current);
    setArmed(false);
    await onConfirm();
  };
  return (
    <button
      type="button"
      class={`btn ${armed ? 'btn-danger' : ''} ${cls}`}
      onClick={click}
      onBlur={() => setArmed(false)}
      data-testid={testId}
      data-armed={armed ? 'true' : undefined}
      disabled={disabled}
      title={title}
    >
      {armed ? confirmLabel : children}
    </button>
  );
}
