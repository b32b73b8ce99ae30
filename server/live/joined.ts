// What a viewer joining a bin's room (a page still loading, a reconnect) missed of the bin's live
// state: only live events carry it, and any sent before the join reached no one.
import type { Socket } from 'socket.io';
import type { SettingsKind } from '../../shared/api.ts';
import type { ApiContext } from '../api/context.ts';
import { forwardEtag, verifyEtag } from '../api/settings-etags.ts';
import { etagOf } from '../http/etag.ts';

/**
 * The plan's position (it moves with every request) and each settings kind's revision: a form
 * loaded before a change that no one announced to it learns of it here (`joined: true`, as
 * it stands; the form compares it with what it holds).
 */
export function tellJoined(ctx: Pick<ApiContext, 'control' | 'forwarder' | 'verifier'>) {
  return (socket: Socket, binId: string) =>
    void ctx.control.view(binId).then(
      (v) => {
        if (v.config.plan.length > 0) socket.emit('response:position', { binId, position: v.position });
        const etags: Record<SettingsKind, string> = { response: etagOf(v.config), forward: forwardEtag(ctx, binId), verify: verifyEtag(ctx, binId) };
        for (const [kind, etag] of Object.entries(etags)) socket.emit('settings:changed', { binId, kind: kind as SettingsKind, etag, joined: true });
      },
      () => {}, // the store away: the next change is told live, as ever
    );
}
