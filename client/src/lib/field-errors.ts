// Server validation errors placed on a form: a 400 lists every bad field at once
// (`error.fields`, paths such as "plan[2].status"), and each goes to the nearest place in the
// form that can show it (a `data-field` slot), all in one go. A mark goes away as soon as the
// field under it is edited.
import type { FieldError } from '../../../shared/api.ts';

export type FieldErrors = Record<string, string>;

export interface Placed {
  errors: FieldErrors;
  /** Messages no slot can show (said at the top of the form). */
  rest: string[];
}

/** How a message reads on a parent slot: the field it is about, named for the user. */
export type Describe = (field: string, slot: string, message: string) => string;

/**
 * Where a server error about `field` belongs: the longest slot that is the field itself or
 * one of its parents ("plan[2].headers.X-Y" -> "plan[2].headers" -> "plan[2]"), else null.
 */
export function slotFor(field: string, slots: readonly string[]): string | null {
  let best: string | null = null;
  for (const s of slots) {
    if (field === s || field.startsWith(`${s}.`) || field.startsWith(`${s}[`)) {
      if (!best || s.length > best.length) best = s;
    }
  }
  return best;
}

/**
 * A field named from the slot that shows it: "prefix: …", not "schemes[0].prefix: …", since
 * the box the slot sits in already says which scheme, step or target it is.
 */
export const nameFromSlot: Describe = (field, slot, message) => {
  const rel = field.slice(slot.length).replace(/^\./, '');
  return rel ? `${rel}: ${message}` : message;
};

/**
 * Each error on its slot (the field itself, else its nearest parent; `alias` may rename a
 * field first). A message on a parent slot names the field it is about: its API path, unless
 * `describe` (given the aliased field) says it in the form's terms (e.g. "line 3").
 */
export function placeErrors(fields: readonly FieldError[], slots: readonly string[], alias?: (field: string) => string, describe?: Describe): Placed {
  const errors: FieldErrors = {};
  const rest: string[] = [];
  for (const f of fields) {
    const field = alias ? alias(f.field) : f.field;
    const slot = slotFor(field, slots);
    if (!slot) {
      rest.push(`${f.field}: ${f.message}`);
      continue;
    }
    const text = slot === field ? f.message : describe ? describe(field, slot, f.message) : `${f.field}: ${f.message}`;
    errors[slot] = errors[slot] ? `${errors[slot]}; ${text}` : text;
  }
  return { errors, rest };
}

/** The slot an input event came from (its nearest `data-field`). */
export function slotOfEvent(e: Event): string | null {
  const el = e.target as Element | null;
  return el?.closest?.('[data-field]')?.getAttribute('data-field') ?? null;
}

/** The errors without the one on `slot` (the same object when there is none, so no re-render). */
export function clearSlot(errors: FieldErrors, slot: string | null): FieldErrors {
  if (!slot || !(slot in errors)) return errors;
  const next = { ...errors };
  delete next[slot];
  return next;
}

/** Focus and show the first marked field, so keyboard users land on it. */
export function focusFirstError(root: ParentNode = document): void {
  requestAnimationFrame(() => {
    const input = root.querySelector<HTMLElement>('[aria-invalid="true"]');
    const box = input ?? root.querySelector<HTMLElement>('.has-error');
    input?.focus();
    box?.scrollIntoView({ block: 'center' });
  });
}
