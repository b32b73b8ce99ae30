// The bin's idempotency groups while the "By key" view is open: fetched when it opens, then
// again when captures arrive, change (a key read from the body) or go, at most once a second
// (a busy bin sends thousands of events; the groups are one answer for the whole bin).
import { useEffect, useState } from 'preact/hooks';
import type { RequestItem } from '../../../shared/api.ts';
import { api, errorMessage } from './api.ts';
import type { KeyGroupsT } from '../../../shared/schema/verify.ts';
import { createRefresher } from './key-groups.ts';
import { getSocket } from './socket.ts';

/** At most one refetch per this long while the view is open. */
export const REFRESH_GAP_MS = 1000;

export interface KeyGroupsState {
  answer: KeyGroupsT | null;
  loading: boolean;
  error: string | null;
}

const initial: KeyGroupsState = { answer: null, loading: true, error: null };

export function useKeyGroups(binId: string, active: boolean): KeyGroupsState {
  const [state, setState] = useState<KeyGroupsState>(initial);

  useEffect(() => {
    if (!active) return;
    let alive = true;
    setState(initial);
    const refresher = createRefresher(async () => {
      try {
        const answer = await api.getIdempotency(binId);
        if (alive) setState({ answer, loading: false, error: null });
      } catch (err) {
        if (alive) setState((s) => ({ ...s, loading: false, error: errorMessage(err) }));
      }
    }, REFRESH_GAP_MS);
    refresher.poke();

    const socket = getSocket();
    const onRequest = (r: RequestItem) => {
      if (r.binId === binId) refresher.poke();
    };
    const onUpdated = (e: { binId: string; items: RequestItem[] }) => {
      // A key read after the capture (a Stripe event id in the body) comes as an update.
      if (e.binId === binId && e.items.some((r) => r.idempotencyKey)) refresher.poke();
    };
    const onDeleted = (e: { binId: string }) => {
      if (e.binId === binId) refresher.poke();
    };
    // Back from a disconnect: whatever arrived meanwhile.
    const onConnect = () => refresher.poke();
    socket.on('request', onRequest);
    socket.on('requests:updated', onUpdated);
    socket.on('requests:deleted', onDeleted);
    socket.on('connect', onConnect);
    return () => {
      alive = false;
      refresher.stop();
      socket.off('request', onRequest);
      socket.off('requests:updated', onUpdated);
      socket.off('requests:deleted', onDeleted);
      socket.off('connect', onConnect);
    };
  }, [binId, active]);

  return state;
}
