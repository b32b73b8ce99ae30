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

/**
 * What a group (a fieldset, a list of rows) carries while an error about it as a whole shows:
 * what Field gives one input. Focusable by script only, so focusFirstError lands on it and a
 * screen reader says the group's name, "invalid" and the message (else focus fell to <body>).
 * `labelledBy`: a name for a group that has none of its own (a list item).
 */
export function groupError(errorId: string, error: string | undefined, labelledBy?: string) {
  return error ? { 'aria-invalid': true as const, 'aria-describedby': errorId, tabIndex: -1, ...(labelledBy ? { 'aria-labelledby': labelledBy } : {}) } : {};
}

export const inputValue = (e: Event) => (e.target as HTMLInputElement).value;
