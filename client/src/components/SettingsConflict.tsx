// What a settings form says about changes made elsewhere: a conflict with a choice, or a note
// that it was reloaded with the newest settings.
import { useState } from 'preact/hooks';
import type { SettingsSync } from '../lib/use-settings-sync.ts';

interface Props {
  sync: SettingsSync;
  /** Save the form over the newer revision. */
  onKeepMine: () => Promise<unknown>;
  onError: (err: unknown) => void;
}

export function SettingsConflict({ sync, onKeepMine, onError }: Props) {
  const [busy, setBusy] = useState(false);
  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await fn();
    } catch (err) {
      onError(err);
    } finally {
      setBusy(false);
    }
  };
  if (sync.conflict) {
    return (
      <div class="notice notice-warn conflict" role="alert" data-testid="settings-conflict" data-why={sync.conflict.why}>
        <p>
          <strong>These settings were changed elsewhere</strong> (another tab, the API or the config file)
          {sync.conflict.why === 'stale' ? ', so your save was not applied.' : ' while you were editing them.'} Your edits are still in the form.
        </p>
        <div class="row">
          <button type="button" class="btn btn-small" disabled={busy} onClick={() => act(sync.loadTheirs)} data-testid="load-theirs">
            Load theirs
          </button>
          <button type="button" class="btn btn-small" disabled={busy} onClick={() => act(onKeepMine)} data-testid="keep-mine">
            Keep mine and overwrite
          </button>
        </div>
      </div>
    );
  }
  if (sync.notice) {
    return (
      <p class="notice notice-ok small" role="status" data-testid="updated-elsewhere">
        {sync.notice}
      </p>
    );
  }
  return null;
}
