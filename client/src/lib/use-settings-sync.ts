// Editing a settings resource that others may change too (another tab, the API, the config
// file): keep the revision (ETag) the form was loaded from, send it as If-Match on every
// save, and when a change made elsewhere is announced either reload the form silently (no
// unsaved edits) or hold the edits and report a conflict — never overwrite blindly.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { SettingsKind } from '../../../shared/api.ts';
import { type Tagged, isStale } from './api.ts';
import { firstLoader } from './first-load.ts';
import { onReachable } from './reachability.ts';
import { useLeaveGuard } from './router.ts';
import { getSocket } from './socket.ts';

export type LoadReason = 'initial' | 'elsewhere' | 'theirs' | 'saved';

export interface Conflict {
  /** changed: announced while the form held edits; stale: a save answered 412. */
  why: 'changed' | 'stale';
}

export interface SyncOptions<T> {
  load: () => Promise<Tagged<T>>;
  /** Put a server value into the form (and make it the saved state). */
  apply: (value: T, why: LoadReason) => void;
  /** Whether the form holds unsaved edits right now. */
  dirty: () => boolean;
  /** Two revisions with the same settings (the ETag may cover runtime state too): a 412 between them is retried. */
  same?: (a: T, b: T) => boolean;
  /** Announcements of a change: an ETag, or null for "maybe" (after a reconnect). */
  subscribe?: (onChange: (etag: string | null) => void) => () => void;
  onLoadError?: (err: unknown) => void;
}

export interface SettingsSync {
  loaded: boolean;
  conflict: Conflict | null;
  /** "Updated elsewhere", shown for a while after a silent reload. */
  notice: string | null;
  /** Save with If-Match; answers false when it hit a conflict instead (the banner shows). */
  save: (put: (ifMatch: string | null) => Promise<Tagged<unknown>>) => Promise<boolean>;
  loadTheirs: () => Promise<void>;
  /** Overwrite the newer revision with the form, knowingly. */
  keepMine: (put: (ifMatch: string | null) => Promise<Tagged<unknown>>) => Promise<boolean>;
  /** Tell it about a change seen some other way (e.g. a `webhook` event). */
  changedElsewhere: (etag: string | null) => void;
}

const NOTICE_MS = 12_000;

export function useSettingsSync<T>(key: string, options: SyncOptions<T>): SettingsSync {
  const o = useRef(options);
  o.current = options;
  const etag = useRef<string | null>(null);
  const base = useRef<T | null>(null);
  const saving = useRef(false);
  /** An announcement that came while our own save was in flight (it may be our own). */
  const heldEtag = useRef<string | null | undefined>(undefined);
  const hasLoaded = useRef(false);
  /**
   * Reads are numbered as asked; `applied` is the number of what the form shows (a save's answer
   * or Load theirs takes a new one). An answer asked before that is older: dropped. So two reads
   * answering out of order leave the newer, and a newer one failing leaves the older applied.
   */
  const asked = useRef(0);
  const applied = useRef(0);
  /** The newest read answered (applied or not: one that showed a conflict knew a newer revision). */
  const answered = useRef(0);
  /** An announcement that came before the first load was in. */
  const beforeLoad = useRef<string | null | undefined>(undefined);
  const alive = useRef(true);
  const [loaded, setLoaded] = useState(false);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // Every settings form: leaving it (a tab, a link, back, reload) with unsaved edits asks first.
  useLeaveGuard(() => o.current.dirty());

  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => setNotice(null), NOTICE_MS);
    return () => clearTimeout(t);
  }, [notice]);

  const accept = (t: Tagged<unknown>, why: LoadReason, gen = ++asked.current) => {
    applied.current = gen;
    etag.current = t.etag;
    base.current = t.value as T;
    o.current.apply(t.value as T, why);
  };

  const changed = async (announced: string | null) => {
    // Before the first load is in, that load answers for it; held, then checked against it.
    if (!hasLoaded.current) {
      beforeLoad.current = announced;
      return;
    }
    if (announced !== null && announced === etag.current) return;
    if (saving.current) {
      heldEtag.current = announced;
      return;
    }
    // Two announcements close together: their reads may answer out of order (see `asked`).
    const gen = ++asked.current;
    try {
      // Asked, not taken from the announcement: one told on joining (or by an instance that
      // had not caught up) may name a revision the form has already moved past.
      const t = await o.current.load();
      answered.current = Math.max(answered.current, gen);
      if (!alive.current || gen < applied.current) return;
      if (t.etag === etag.current) {
        applied.current = gen;
        return;
      }
      // The user may have edited (or started while it loaded): a conflict, the edits kept.
      if (o.current.dirty()) setConflict({ why: 'changed' });
      else {
        accept(t, 'elsewhere', gen);
        setConflict(null);
        setNotice('Updated elsewhere: the form now shows the newest settings.');
      }
    } catch {
      /* offline: the next reconnect checks again */
    }
  };

  useEffect(() => {
    alive.current = true;
    // Reads still out for the key before are older than anything of this one.
    applied.current = ++asked.current;
    let mine = true;
    etag.current = null;
    base.current = null;
    hasLoaded.current = false;
    beforeLoad.current = undefined;
    setLoaded(false);
    setConflict(null);
    setNotice(null);
    const first = firstLoader(
      () => o.current.load(),
      (t) => {
        if (!mine) return;
        accept(t, 'initial');
        hasLoaded.current = true;
        setLoaded(true);
        // Announced while it loaded: the load may have left before that change.
        const told = beforeLoad.current;
        beforeLoad.current = undefined;
        if (told !== undefined && told !== t.etag) void changed(told);
      },
      (err) => mine && o.current.onLoadError?.(err),
    );
    first();
    // The first load failed for want of the server: try again once it is back.
    const offReach = onReachable(first);
    const off = o.current.subscribe?.((e) => void changed(e));
    return () => {
      mine = false;
      alive.current = false;
      off?.();
      offReach();
    };
  }, [key]);

  const save = async (put: (ifMatch: string | null) => Promise<Tagged<unknown>>): Promise<boolean> => {
    saving.current = true;
    heldEtag.current = undefined;
    try {
      try {
        accept(await put(etag.current), 'saved');
      } catch (err) {
        if (!isStale(err)) throw err;
        const theirs = await o.current.load();
        const same = o.current.same;
        if (same && base.current !== null && same(theirs.value, base.current)) accept(await put(theirs.etag), 'saved');
        else {
          setConflict({ why: 'stale' });
          return false;
        }
      }
      setConflict(null);
      return true;
    } finally {
      saving.current = false;
      const held = heldEtag.current;
      heldEtag.current = undefined;
      if (held !== undefined && held !== etag.current) void changed(held);
    }
  };

  const loadTheirs = async () => {
    // Numbered as asked: a read asked after it and answered first knew a newer revision (the
    // conflict it showed): asked again, not the older one put in the form.
    for (;;) {
      const gen = ++asked.current;
      const t = await o.current.load();
      if (gen < answered.current) continue;
      answered.current = gen;
      accept(t, 'theirs', gen);
      setConflict(null);
      return;
    }
  };

  const keepMine = async (put: (ifMatch: string | null) => Promise<Tagged<unknown>>) => {
    const theirs = await o.current.load();
    etag.current = theirs.etag;
    base.current = theirs.value;
    return save(put);
  };

  return { loaded, conflict, notice, save, loadTheirs, keepMine, changedElsewhere: (e) => void changed(e) };
}

/** A bin's `settings:changed` announcements of one kind; a reconnect asks for a check (it may have missed one). */
export function settingsChanges(binId: string, kind: SettingsKind) {
  return (onChange: (etag: string | null) => void) => {
    const s = getSocket();
    let connectedBefore = s.connected;
    const onEvent = (e: { binId: string; kind: SettingsKind; etag: string }) => {
      if (e.binId === binId && e.kind === kind) onChange(e.etag);
    };
    const onConnect = () => {
      if (connectedBefore) onChange(null);
      connectedBefore = true;
    };
    s.on('settings:changed', onEvent);
    s.on('connect', onConnect);
    return () => {
      s.off('settings:changed', onEvent);
      s.off('connect', onConnect);
    };
  };
}
