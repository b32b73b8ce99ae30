// The foot of a settings form: what the last save said (or why it failed), Save, Revert, and
// whether there are unsaved edits. One for every settings form, so they read alike.
export function SaveBar(p: {
  /** data-testid prefix: save-<name>, <name>-error, <name>-status. */
  name: string;
  status?: string | null;
  topError?: string | null;
  locked: boolean;
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
        <button type="submit" class="btn btn-primary" disabled={p.locked} data-testid={`save-${p.name}`}>
          Save
        </button>
        <button type="button" class="btn" disabled={!p.dirty || p.locked} onClick={p.onRevert}>
          Revert
        </button>
        <span class="muted small" aria-live="polite" data-testid={`dirty-${p.name}`}>
          {p.dirty ? 'Unsaved changes' : 'All changes saved'}
        </span>
      </div>
    </>
  );
}
