// The foot of a settings form: what the last save said (or why it failed), Save, Revert, and
// whether there are unsaved edits. One for every settings form, so they read alike.
import { KeepFocusButton } from './KeepFocusButton.tsx';

export function SaveBar(p: {
  /** data-testid prefix: save-<name>, <name>-error, <name>-status. */
  name: string;
  status?: string | null;
  topError?: string | null;
  locked: boolean;
  /**
   * A save is out (part of `locked`): Save and Revert stay focusable meanwhile, so a form
   * passing it must ignore a submit while busy.
   */
  busy?: boolean;
  dirty: boolean;
  onRevert: () => void;
}) {
  return (
    <>
      {(p.topError || p.status) && (
        <p class={`notice ${p.topError ? 'notice-bad' : 'notice-ok'}`} role={p.topError ? 'alert' : 'status'} data-testid={p.topError ? `${p.name}-error` : `${p.name}-status`}>
          {p.topError ?? p.status}
        </p>
      )}
      <div class="save-bar">
        <KeepFocusButton type="submit" class="btn btn-primary" off={p.locked} disabled={p.locked && !p.busy} data-testid={`save-${p.name}`}>
          Save
        </KeepFocusButton>
        <KeepFocusButton type="button" class="btn" off={!p.dirty || p.locked} disabled={p.locked && !p.busy} onClick={p.onRevert}>
          Revert
        </KeepFocusButton>
        <span class="muted small" aria-live="polite" data-testid={`dirty-${p.name}`}>
          {p.dirty ? 'Unsaved changes' : 'All changes saved'}
        </span>
      </div>
    </>
  );
}
