// A bin's captured requests, live: the newest page from the API, then Socket.IO events
// batched into one render per animation frame, older pages on demand, unread tracking, and
// a backfill of whatever was missed when the connection comes back.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Bin, RequestItem } from '../../../shared/api.ts';
import { api, errorMessage } from './api.ts';
import { mergeRequests, removeRequests } from './request-list.ts';
import { getSocket, subscribeBin } from './socket.ts';

/** Requests kept in memory; older ones are paged from the API again when scrolled to. */
export const KEEP = 3000;
const FIRST_PAGE = 200;
const OLDER_PAGE = 500;

export interface BinRequestsState {
  bin: Bin | null;
  binMissing: boolean;
  binDeleted: boolean;
  list: RequestItem[];
  /** Cursor for the next older page; null when the oldest stored request is loaded. */
  nextBefore: string | null;
  loading: boolean;
  loadingOlder: boolean;
  error: string | null;
  unread: Set<string>;
  /** Bumped whenever `unread` changes (the Set itself is mutated). */
  unreadVersion: number;
  /** Set briefly after a reconnect replayed missed requests. */
  backfilled: { count: number; at: number } | null;
  /** Ids deleted while the page was open (by anyone), and whether the bin was cleared. */
  deleted: Set<string>;
  clearedAll: boolean;
}

export function useBinRequests(binId: string) {
  const [state, setState] = useState<BinRequestsState>(() => initial());
  const known = useRef(new Set<string>());
  const unread = useRef(new Set<string>());
  const pending = useRef<RequestItem[]>([]);
  const scheduled = useRef(false);
  const listRef = useRef<RequestItem[]>([]);
  /** Last row index on screen, so trimming never removes what the user is looking at. */
  const lastVisible = useRef(0);
  const loadingOlderRef = useRef(false);

  function initial(): BinRequestsState {
    return {
      bin: null,
      binMissing: false,
      binDeleted: false,
      list: [],
      nextBefore: null,
      loading: true,
      loadingOlder: false,
      error: null,
      unread: new Set(),
      unreadVersion: 0,
      backfilled: null,
      deleted: new Set(),
      clearedAll: false,
    };
  }

  useEffect(() => {
    let alive = true;
    known.current = new Set();
    unread.current = new Set();
    pending.current = [];
    listRef.current = [];
    setState({ ...initial(), unread: unread.current });

    const flush = () => {
      scheduled.current = false;
      if (!alive) return;
      const batch = pending.current;
      pending.current = [];
      const { list, added } = mergeRequests(listRef.current, batch, known.current);
      if (added.length === 0) return;
      for (const r of added) unread.current.add(r.id);
      let next = list;
      let trimmedCursor: string | null = null;
      // Keep memory bounded on a busy bin, but never under the user's eyes.
      if (next.length > KEEP + OLDER_PAGE && lastVisible.current < KEEP - 50) {
        for (let i = KEEP; i < next.length; i++) {
          known.current.delete(next[i].id);
          unread.current.delete(next[i].id);
        }
        next = next.slice(0, KEEP);
        trimmedCursor = next[next.length - 1].id;
      }
      listRef.current = next;
      setState((s) => ({
        ...s,
        list: next,
        nextBefore: trimmedCursor ?? s.nextBefore,
        unreadVersion: s.unreadVersion + 1,
      }));
    };
    const schedule = () => {
      if (scheduled.current) return;
      scheduled.current = true;
      // One render per frame; hidden tabs get no frames, so use a timer there.
      if (document.hidden) setTimeout(flush, 500);
      else requestAnimationFrame(flush);
    };

    const socket = getSocket();
    const onRequest = (r: RequestItem) => {
      if (r.binId !== binId) return;
      pending.current.push(r);
      schedule();
    };
    const onDeleted = (e: { binId: string; ids: string[] | 'all' }) => {
      if (e.binId !== binId) return;
      if (e.ids === 'all') {
        pending.current = [];
        unread.current.clear();
      } else for (const id of e.ids) unread.current.delete(id);
      const next = removeRequests(listRef.current, e.ids, known.current);
      listRef.current = next;
      setState((s) => ({
        ...s,
        list: next,
        nextBefore: e.ids === 'all' ? null : s.nextBefore,
        unreadVersion: s.unreadVersion + 1,
        deleted: e.ids === 'all' ? s.deleted : new Set([...s.deleted, ...e.ids]),
        clearedAll: s.clearedAll || e.ids === 'all',
      }));
    };
    const onBinUpdated = (b: Bin) => {
      if (b.id === binId) setState((s) => ({ ...s, bin: b }));
    };
    const onBinDeleted = (e: { id: string }) => {
      if (e.id === binId) setState((s) => ({ ...s, binDeleted: true }));
    };
    socket.on('request', onRequest);
    socket.on('requests:deleted', onDeleted);
    socket.on('bin:updated', onBinUpdated);
    socket.on('bin:deleted', onBinDeleted);

    let unsubscribe: (() => void) | null = null;
    (async () => {
      try {
        const [bin, page] = await Promise.all([api.getBin(binId), api.listRequests(binId, { limit: FIRST_PAGE })]);
        if (!alive) return;
        // The first page is not "unread": it was there before the page opened.
        const { list } = mergeRequests(listRef.current, page.requests, known.current);
        listRef.current = list;
        setState((s) => ({ ...s, bin, list, nextBefore: page.nextBefore, loading: false }));
        // Join the room, replaying anything newer than what the page holds ("0" sorts
        // before every id, so an empty bin gets all that arrived since the fetch).
        unsubscribe = subscribeBin(
          binId,
          () => listRef.current[0]?.id ?? '0',
          (ack, reconnect) => {
            if (!alive) return;
            if (!ack.ok) setState((s) => ({ ...s, error: ack.error ?? 'could not subscribe to live updates' }));
            else if (reconnect) setState((s) => ({ ...s, backfilled: { count: ack.backfilled ?? 0, at: Date.now() } }));
          },
        );
      } catch (err) {
        if (!alive) return;
        const missing = (err as { status?: number }).status === 404;
        setState((s) => ({ ...s, loading: false, binMissing: missing, error: missing ? null : errorMessage(err) }));
      }
    })();

    return () => {
      alive = false;
      unsubscribe?.();
      socket.off('request', onRequest);
      socket.off('requests:deleted', onDeleted);
      socket.off('bin:updated', onBinUpdated);
      socket.off('bin:deleted', onBinDeleted);
    };
  }, [binId]);

  const loadOlder = useCallback(async () => {
    const before = state.nextBefore;
    if (!before || loadingOlderRef.current) return;
    loadingOlderRef.current = true;
    setState((s) => ({ ...s, loadingOlder: true }));
    try {
      const page = await api.listRequests(binId, { limit: OLDER_PAGE, before });
      const { list } = mergeRequests(listRef.current, page.requests, known.current);
      listRef.current = list;
      setState((s) => ({ ...s, list, nextBefore: page.nextBefore, loadingOlder: false }));
    } catch (err) {
      setState((s) => ({ ...s, loadingOlder: false, error: errorMessage(err) }));
    } finally {
      loadingOlderRef.current = false;
    }
  }, [binId, state.nextBefore]);

  const markRead = useCallback((id: string) => {
    if (unread.current.delete(id)) setState((s) => ({ ...s, unreadVersion: s.unreadVersion + 1 }));
  }, []);

  const markAllRead = useCallback(() => {
    unread.current.clear();
    setState((s) => ({ ...s, unreadVersion: s.unreadVersion + 1 }));
  }, []);

  const setLastVisible = useCallback((i: number) => {
    lastVisible.current = i;
  }, []);

  const renamed = useCallback((bin: Bin) => setState((s) => ({ ...s, bin })), []);

  return { ...state, unread: unread.current, loadOlder, markRead, markAllRead, setLastVisible, renamed };
}
