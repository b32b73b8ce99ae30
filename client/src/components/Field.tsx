// A labelled form field that can show a validation message in place: `data-field` names the
// API field it stands for (e.g. "plan[2].status"), so server errors land on it.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

let fieldSeq = 0;

export interface FieldAttrs {
  id: string;
  'aria-invalid': boolean;
  'aria-describedby'?: string;
}

interface FieldProps {
  label: string;
  slot: string;
  error?: string;
  wide?: boolean;
  hint?: ComponentChildren;
  children: (attrs: FieldAttrs) => ComponentChildren;
}

export function Field({ label, slot, error, wide, hint, children }: FieldProps) {
  const [id] = useState(() => `f${++fieldSeq}`);
  return (
    <div class={`field${wide ? ' wide' : ''}${error ? ' has-error' : ''}`} data-field={slot}>
      <label for={id}>{label}</label>
      {children({ id, 'aria-invalid': !!error, 'aria-describedby': error ? `${id}-err` : undefined })}
      {hint && <span class="muted small">{hint}</span>}
      {error && <FieldError id={`${id}-err`} message={error} />}
    </div>
  );
}

export function FieldError({ id, message }: { id: string; message: string }) {
  return (
    <p class="field-error" id={id} data-testid="field-error">
      {message}
    </p>
  );
}

export const inputValue = (e: Event) => (e.target as HTMLInputElement).value;
