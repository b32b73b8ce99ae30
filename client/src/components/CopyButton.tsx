import { useEffect, useRef, useState } from 'preact/hooks';
import { copyText } from '../lib/clipboard.ts';

interface Props {
  /** The text, or a function computing it at click time. */
  text: string | (() => string);
  label?: string;
  class?: string;
  testId?: string;
  title?: string;
}

export function CopyButton({ text, label = 'Copy', class: cls = '', testId, title }: Props) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const timer = useRef<number>();
  useEffect(() => () => clearTimeout(timer.current), []);
  const onClick = async () => {
    const ok = await copyText(typeof text === 'function' ? text() : text);
    setState(ok ? 'copied' : 'failed');
    clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setState('idle'), 1800);
  };
  return (
    <button type="button" class={`btn ${cls}`} onClick={onClick} data-testid={testId} title={title}>
      <span aria-live="polite">{state === 'copied' ? 'Copied ✓' : state === 'failed' ? 'Copy failed' : label}</span>
    </button>
  );
}
