// A bin's captured requests, live: the newest page from the API, then Socket.IO events
// batched into one render per animation frame, older pages on demand, unread tracking, and
// a backfill of whatever was missed when the connection comes back, after which the loaded
// rows are read again (what left the bin meanwhile is not replayed). With a filter (the page
// URL's search) the pages come from the server's search, and a live capture joins the list
// only if it matches: checked on the row when the filter allows, else asked of the server.
// How many the bin holds is kept live too (see live-count.ts), and how many a cap pushed out.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Bin, RequestItem, RequestsGoneReason } from '../../../shared/api.ts';
import { ApiError, api, errorMessage, isNotFound } from './api.ts';
import { canSkipReread, countBetween, goneRows, goneWhy, readDown } from './list-resync.ts';
import { keptRows, rankOf } from './list-step.ts';
import { LiveCount } from './live-count.ts';
import { liveOrder } from './live-order.ts';
import { type RequestFilter, filterSearch, isEmptyFilter, matchesRow, needsServer } from './request-filter.ts';
import { mergeRequests, removeRequests, replaceRequests } from './request-list.ts';
import { SearchCatchUp } from './search-catch-up.ts';
import { getSocket, subscribeBin } from './socket.ts';
import { Unread } from './unread.ts';

/** Requests kept in memory; older ones are paged from the API again when scrolled to. */
export const KEEP = 3000;
const FIRST_PAGE = 200;
const OLDER_PAGE = 500;
/** A filtered catch-up's search that failed is asked again after this. */
const SEARCH_RETRY_MS = 2000;
/**
 * After the bin's verify settings change, its re-check's row updates come for a while (thousands
 * of rows): a list they may change the matches of is read again once they have been quiet this
 * long, and updates up to RECHECK_WINDOW_MS after the change count as the re-check's.
 */
const REREAD_QUIET_MS = 300;
const RECHECK_WINDOW_MS = 15_000;

/**
 * Does the filter depend on what a bin's verify settings decide of each capture (its
 * idempotency key is read with them)? Such a list is read again when they change.
 */
export const dependsOnVerdicts = (f: RequestFilter): boolean => !!f.key?.trim();

export interface BinRequestsState {
  bin: Bin | null;
  binMissing: boolean;
  /** Deleted while the page was open (the live event, or a 404 for the bin later). */
  binDeleted: boolean;
  list: RequestItem[];
  /** Cursor for the next older page; null when the oldest stored request is loaded. */
  nextBefore: string | null;
  loading: boolean;
  loadingOlder: boolean;
  /**
   * The last older page failed (offline, a 503): what went wrong. Nothing loads older pages by
   * itself until one is asked for again (a button), so a failure is no loop of requests.
   */
  olderError: string | null;
  error: string | null;
  /**
   * The server refused the filter (a 400: `?status=abc` in a shared link, say): what it said,
   * and about which filter field. The bin still loads and stays live; the list is empty.
   */
  filterError: { field: string | null; message: string } | null;
  /** Bumped whenever the unread captures change (see unread.ts; the tracker itself is mutated). */
  unreadVersion: number;
  /**
   * Set after a reconnect replayed missed requests: how many, and with a filter how many of
   * them match (the rows added; null when the list could not be read again).
   */
  backfilled: { count: number; matched: number | null; at: number } | null;
  /** Ids deleted while the page was open (by anyone), and whether the bin was cleared. */
  deleted: Set<string>;
  /**
   * Open requests pushed out by a cap while they were open (MAX_REQUESTS_PER_BIN,
   * MAX_STORE_BYTES): nobody deleted them. Only the open one is noted: a full bin pushes one
   * out per capture, and any other one opened later says it is no longer stored by itself.
   */
  evicted: Set<string>;
  clearedAll: boolean;
  /** Bumped when a row already in the list changed (`requests:updated`). */
  updatedVersion: number;
  /**
   * How many captures the bin holds (not how many are loaded, nor how many match a filter):
   * its `requestCount`, kept live (see live-count.ts). Null until the bin was read.
   */
  count: number | null;
  /** Captures a cap pushed out (`requests:deleted`, reason 'evicted') since the page opened. */
  pushedOut: number;
}

function initial(): BinRequestsState {
  return {
    bin: null,
    binMissing: false,
    binDeleted: false,
    list: [],
    nextBefore: null,
    loading: true,
    loadingOlder: false,
    olderError: null,
    error: null,
    filterError: null,
    unreadVersion: 0,
    backfilled: null,
    deleted: new Set(),
    evicted: new Set(),
    clearedAll: false,
    updatedVersion: 0,
    count: null,
    pushedOut: 0,
  };
}

/** A first page refused for its filter (400): what to say at the filter; else null. */
export function filterRefusal(filtered: boolean, err: unknown): { field: string | null; message: string } | null {
  if (!filtered || !(err instanceof ApiError) || err.status !== 400) return null;
  const f = err.fields[0];
  return f ? { field: f.field, message: f.message } : { field: err.field ?? null, message: err.message };
}

export function useBinRequests(binId: string, filter: RequestFilter = {}) {
  const filterKey = filterSearch(filter);
  const [state, setState] = useState<BinRequestsState>(() => initial());
  const known = useRef(new Set<string>());
  /** The bin's unread captures: kept across filter changes (it is about the bin, not the rows). */
  const unread = useRef(new Unread());
  const pending = useRef<RequestItem[]>([]);
  const updates = useRef(new Map<string, RequestItem>());
  /** Rows whose detail changed, not the row (a forward finished): made anew so an open detail reloads. */
  const touched = useRef(new Set<string>());
  const scheduled = useRef(false);
  const listRef = useRef<RequestItem[]>([]);
  /** Last row index on screen, so trimming never removes what the user is looking at. */
  const lastVisible = useRef(0);
  /** The open request (its row is kept too) and the rows kept at least (see keptRows). */
  const keepFor = useRef<{ selectedId: string | null; floor: number }>({ selectedId: null, floor: 0 });
  const loadingOlderRef = useRef(false);
  /** New each time the list is read anew (another bin or filter, a re-read): an older page asked for before belongs to the old list. */
  const listGen = useRef(0);
  /** The newest capture id seen at all (matching or not): where a reconnect resumes. */
  const lastSeen = useRef<string | null>(null);
  /** The bin lastSeen is of. */
  const seenOf = useRef<string | null>(null);
  const filterRef = useRef(filter);
  filterRef.current = filter;
  /** The bin comes live (`bin:updated`) and in our own writes' answers: an answer a live update overtook is older. */
  const [binOrder] = useState(liveOrder);

  useEffect(() => {
    let alive = true;
    const f = filterRef.current;
    const filtered = !isEmptyFilter(f);
    known.current = new Set();
    pending.current = [];
    updates.current = new Map();
    touched.current = new Set();
    listRef.current = [];
    listGen.current++;
    // Another filter on the same bin: the newest capture seen of it stays where the subscribe
    // resumes (a filtered first page knows only its newest match; from there the subscribe
    // replayed every capture since, thousands on a busy bin).
    if (seenOf.current !== binId) {
      lastSeen.current = null;
      unread.current = new Unread();
    }
    seenOf.current = binId;
    const tracker = unread.current;
    setState((s) => {
      // Another filter on the same bin: what is known of the bin itself stays.
      const same = s.bin?.id === binId;
      return { ...initial(), unreadVersion: s.unreadVersion + 1, bin: same ? s.bin : null, binDeleted: same && s.binDeleted, count: same ? s.count : null, pushedOut: same ? s.pushedOut : 0 };
    });
    // Told to the page with the next batch (one render per frame, however many events came).
    // Whether its count is exact (for a reconnect to tell whether anything left, see
    // canSkipReread): a read of the bin answered, and no event since that read was sent (one
    // during a read may be in its answer as well).
    let countReadsOut = 0;
    let countExact = false;
    const counter = new LiveCount({
      read: (signal) => {
        countReadsOut++;
        countExact = true;
        return api.getBin(binId, signal).then(
          (b) => b.requestCount,
          () => {
            countExact = false;
            return null;
          },
        ).finally(() => countReadsOut--);
      },
      onChange: () => schedule(),
    });
    /** The bin's cap as last read, to tell a reconnect whether it changed. */
    let maxRequests: number | undefined;
    /** False from a drop until a reconnect's read made the list what the server holds. */
    let listCurrent = true;
    /** From a drop until its reconnect's bin read: the exact count then, where the page stood, and the captures announced since. */
    let drop: { count: number | null; from: string; max: number | undefined; announced: Set<string> } | null = null;
    /** Replayed captures a reconnect whose read was dropped (by a later one) did not say yet, and where that replay resumed. */
    let unsaid: { from: string | null; replayed: number } | null = null;
    /** The count last put in the state. */
    let shownCount: number | null = null;
    /** The unread tracker's version last put in the state. */
    let shownUnread = -1;
    /** Captures counted unread so far (a bin read while they came may not hold them yet). */
    let arrivals = 0;
    /** While a reconnect's read of the list is out: what left or changed meanwhile (its answer may be older). */
    let during: { deleted: Set<string>; updated: Map<string, RequestItem>; cleared: boolean } | null = null;
    /** The last reconnect's read: an earlier one still out is dropped. */
    let resyncGen = 0;

    const seen = (id: string) => {
      if (!lastSeen.current || id > lastSeen.current) lastSeen.current = id;
    };

    const flush = () => {
      scheduled.current = false;
      if (!alive) return;
      const batch = pending.current;
      pending.current = [];
      const changed = updates.current;
      updates.current = new Map();
      const merged = mergeRequests(listRef.current, batch, known.current);
      const added = merged.added;
      // After the merge: an update may be about a row that arrived in this same batch.
      let next = merged.list;
      let updatedAny = false;
      if (touched.current.size) {
        const ids = touched.current;
        touched.current = new Set();
        // A copy of the row: the same content, a new object, which the open detail reads as
        // "changed" (it fetches itself again).
        for (const r of next) if (ids.has(r.id) && !changed.has(r.id)) changed.set(r.id, { ...r });
      }
      if (changed.size) {
        const r = replaceRequests(next, changed);
        updatedAny = r !== next;
        next = r;
      }
      const count = counter.value;
      const countChanged = count !== null && count !== shownCount;
      if (countChanged) shownCount = count;
      const unreadChanged = tracker.version !== shownUnread;
      shownUnread = tracker.version;
      if (added.length === 0 && !updatedAny) {
        if (countChanged || unreadChanged) setState((s) => ({ ...s, count: countChanged ? count : s.count, unreadVersion: unreadChanged ? s.unreadVersion + 1 : s.unreadVersion }));
        return;
      }
      let trimmedCursor: string | null = null;
      // Keep memory bounded on a busy bin, but never under the user's eyes.
      const sel = keepFor.current.selectedId;
      const rank = sel ? rankOf(next, sel) : -1;
      const kept = keptRows(next.length, {
        keep: KEEP,
        slack: OLDER_PAGE,
        margin: 50,
        lastVisible: lastVisible.current,
        selectedIndex: rank >= 0 && next[rank]?.id === sel ? rank : -1,
        floor: keepFor.current.floor,
      });
      if (kept < next.length) {
        // Unread stays as it is: it counts captures, not the rows kept.
        for (let i = kept; i < next.length; i++) known.current.delete(next[i].id);
        next = next.slice(0, kept);
        trimmedCursor = next[next.length - 1].id;
      }
      listRef.current = next;
      setState((s) => ({
        ...s,
        list: next,
        nextBefore: trimmedCursor ?? s.nextBefore,
        unreadVersion: unreadChanged ? s.unreadVersion + 1 : s.unreadVersion,
        updatedVersion: updatedAny ? s.updatedVersion + 1 : s.updatedVersion,
        count: countChanged ? count : s.count,
      }));
    };
    const schedule = () => {
      if (scheduled.current) return;
      scheduled.current = true;
      // One render per frame; hidden tabs get no frames, so use a timer there.
      if (document.hidden) setTimeout(flush, 500);
      else requestAnimationFrame(flush);
    };

    // A filter that needs headers or the body: ask the server which of the new captures
    // match, one question at a time, again if more came meanwhile (see search-catch-up.ts).
    let catching = false;
    let retrying = false;
    const search = new SearchCatchUp();
    const catchUp = async () => {
      if (catching) return;
      catching = true;
      try {
        for (let q = search.take(); q && alive; q = search.take()) {
          try {
            let before: string | undefined;
            // Every page of it: a burst during a slow search can hold thousands of matches.
            for (;;) {
              const page = await api.listRequests(binId, { limit: FIRST_PAGE, after: q.after, before }, f);
              if (!alive) return;
              pending.current.push(...page.requests);
              schedule();
              if (!page.nextBefore) break;
              before = page.nextBefore;
            }
          } catch {
            // Offline, or the server busy (503): asked again in a moment (one retry waiting at a
            // time), or with the next capture.
            search.failed(q);
            if (!retrying) {
              retrying = true;
              setTimeout(() => {
                retrying = false;
                if (alive) void catchUp();
              }, SEARCH_RETRY_MS);
            }
            return;
          }
          // Let a burst gather into one question.
          await new Promise((r) => setTimeout(r, 250));
        }
      } finally {
        catching = false;
      }
    };
    const askServer = (id: string) => {
      search.ask(id);
      void catchUp();
    };

    /** The server refused the filter: no capture can match it (none is asked about). */
    let refused = false;
    let firstLoaded = false;
    const socket = getSocket();
    const onRequest = (r: RequestItem) => {
      if (r.binId !== binId) return;
      countExact = false;
      if (drop && r.id > drop.from) drop.announced.add(r.id);
      seen(r.id);
      // Every capture counts, matching the filter or not: the count is the bin's, and so are
      // the unread ones.
      counter.capture(r.id);
      if (tracker.arrived(r.id)) {
        arrivals++;
        schedule();
      }
      if (refused) return;
      if (filtered) {
        search.announce(r.id);
        if (!matchesRow(f, r)) return;
        if (needsServer(f)) {
          askServer(r.id);
          return;
        }
      }
      pending.current.push(r);
      schedule();
    };
    // The bin's verify settings changed: the rows matching a key filter change with its
    // re-check (the updates only touch rows already listed). Read the list again once the
    // re-check's updates are done, keeping what came live since the read was sent.
    let recheckUntil = 0;
    let rereadTimer: ReturnType<typeof setTimeout> | undefined;
    let rereading = false;
    let rereadAgain = false;
    const armReread = () => {
      clearTimeout(rereadTimer);
      rereadTimer = setTimeout(() => void reread(), REREAD_QUIET_MS);
    };
    const reread = async () => {
      if (rereading) {
        rereadAgain = true;
        return;
      }
      rereading = true;
      const since = lastSeen.current;
      try {
        const page = await api.listRequests(binId, { limit: FIRST_PAGE }, f);
        if (!alive) return;
        // Flushed first: what waits for the next frame is merged into the list it replaces.
        flush();
        const newer = listRef.current.filter((r) => since !== null && r.id > since);
        known.current = new Set(newer.map((r) => r.id));
        const { list } = mergeRequests(newer, page.requests, known.current);
        listRef.current = list;
        listGen.current++;
        setState((s) => ({ ...s, list, nextBefore: page.nextBefore, olderError: null }));
      } catch {
        // Offline or busy: the next settings change or reload reads it; the list stays as it was.
      } finally {
        rereading = false;
        if (rereadAgain && alive) {
          rereadAgain = false;
          armReread();
        }
      }
    };
    const onSettings = (e: { binId: string; kind: string; joined?: true }) => {
      // Before the first page is in, that read is the one to take (it may have crossed the change).
      // Told on joining: where they stand, not a change (the list's own reads are newer).
      if (e.binId !== binId || e.kind !== 'verify' || e.joined || !dependsOnVerdicts(f) || refused || !firstLoaded) return;
      recheckUntil = Date.now() + RECHECK_WINDOW_MS;
      armReread();
    };

    const onUpdated = (e: { binId: string; items: RequestItem[]; details?: string[] }) => {
      if (e.binId !== binId) return;
      if (during) for (const r of e.items) during.updated.set(r.id, r);
      if (Date.now() < recheckUntil) armReread();
      for (const r of e.items) updates.current.set(r.id, r);
      for (const id of e.details ?? []) touched.current.add(id);
      schedule();
    };
    const onDeleted = (e: { binId: string; ids: string[] | 'all'; reason?: RequestsGoneReason }) => {
      if (e.binId !== binId) return;
      // A server older than the reason field said nothing: a delete, as it always read.
      const pushedOut = e.reason === 'evicted' && e.ids !== 'all';
      const open = keepFor.current.selectedId;
      const openGone = pushedOut && open && (e.ids as string[]).includes(open) ? open : null;
      countExact = false;
      if (e.ids === 'all') {
        pending.current = [];
        tracker.allRead(lastSeen.current ?? '');
        counter.cleared();
        if (during) during.cleared = true;
      } else {
        tracker.gone(e.ids);
        counter.removed(e.ids.length);
        if (during) for (const id of e.ids) during.deleted.add(id);
      }
      shownUnread = tracker.version;
      const next = removeRequests(listRef.current, e.ids, known.current);
      listRef.current = next;
      const count = counter.value;
      if (count !== null) shownCount = count;
      setState((s) => ({
        ...s,
        list: next,
        count: count ?? s.count,
        pushedOut: pushedOut ? s.pushedOut + e.ids.length : s.pushedOut,
        nextBefore: e.ids === 'all' ? null : s.nextBefore,
        unreadVersion: s.unreadVersion + 1,
        deleted: e.ids === 'all' || pushedOut ? s.deleted : new Set([...s.deleted, ...e.ids]),
        evicted: openGone ? new Set([...s.evicted, openGone]) : s.evicted,
        clearedAll: s.clearedAll || e.ids === 'all',
      }));
    };
    const onBinUpdated = (b: Bin) => {
      if (b.id !== binId) return;
      // Read when it was sent: as good as a read of the bin.
      counter.set(b.requestCount);
      maxRequests = b.maxRequests;
      binOrder.live();
      setState((s) => ({ ...s, bin: b }));
    };
    const onBinDeleted = (e: { id: string }) => {
      if (e.id === binId) setState((s) => ({ ...s, binDeleted: true }));
    };
    const onDisconnect = () => {
      // Before the first read the page reads everything anyway.
      if (!firstLoaded) return;
      // What the bin held as the connection dropped, if known exactly, and the list was as the
      // server held it (a reconnect whose read did not finish leaves it unknown).
      const exact = listCurrent && countExact && countReadsOut === 0;
      drop = { count: exact ? counter.value : null, from: lastSeen.current ?? '', max: maxRequests, announced: new Set() };
      listCurrent = false;
    };
    socket.on('disconnect', onDisconnect);
    socket.on('request', onRequest);
    socket.on('requests:updated', onUpdated);
    socket.on('requests:deleted', onDeleted);
    socket.on('bin:updated', onBinUpdated);
    socket.on('bin:deleted', onBinDeleted);
    socket.on('settings:changed', onSettings);

    /**
     * After a reconnect: the replay brought what arrived meanwhile, not what left (a clear,
     * deletions, the cap pushing the oldest out, a smaller cap after a restart). Read the bin
     * and the loaded range again, newest first down to the oldest loaded row (list-resync.ts),
     * and make the list what the server holds there, keeping what came live since the read was
     * sent. `from`: where the replay resumed; `upTo`: the newest it brought.
     */
    const resync = async (resumed: string | null, upTo: string | null, ackReplayed: number) => {
      const gen = ++resyncGen;
      // A reconnect before the last one's read finished: its replay is said with this one's.
      const from = unsaid ? unsaid.from : resumed;
      const replayed = (unsaid?.replayed ?? 0) + ackReplayed;
      unsaid = { from, replayed };
      const dropped = drop;
      flush();
      const arrivalsAtSend = arrivals;
      const d = { deleted: new Set<string>(), updated: new Map<string, RequestItem>(), cleared: false };
      during = d;
      let matched: number | null = null;
      try {
        // The bin first: when nothing can have left it meanwhile, the rows are not read again
        // (every tab does this at once after a server restart, up to 20 pages each).
        const bin = await binOrder.ask(() => api.getBin(binId));
        if (!alive || gen !== resyncGen) return;
        if (dropped === drop) drop = null;
        const skip = canSkipReread({ filtered, before: dropped?.count ?? null, announced: dropped?.announced.size ?? 0, stored: bin.requestCount, maxBefore: dropped?.max, maxNow: bin.maxRequests });
        if (skip && !d.cleared && !d.deleted.size) {
          maxRequests = bin.maxRequests;
          listCurrent = true;
          unsaid = null;
          const overtaken = binOrder.overtaken(bin);
          setState((s) => ({ ...s, bin: overtaken ? s.bin : bin, backfilled: replayed ? { count: replayed, matched: null, at: Date.now() } : s.backfilled }));
          return;
        }
        flush();
        const old = listRef.current;
        const since = lastSeen.current ?? '';
        const read = await readDown((q) => api.listRequests(binId, q, f), old.at(-1)?.id ?? null);
        if (!alive || gen !== resyncGen) return;
        maxRequests = bin.maxRequests;
        flush();
        let gone: { id: string; why: 'evicted' | 'deleted' } | null = null;
        let next = listRef.current;
        let nextBefore: string | null | undefined;
        // A clear meanwhile emptied the list after this read was served: the read is older.
        if (!d.cleared) {
          const newer = listRef.current.filter((r) => r.id > since);
          known.current = new Set(newer.map((r) => r.id));
          const fresh = read.rows.filter((r) => !d.deleted.has(r.id)).map((r) => d.updated.get(r.id) ?? r);
          next = mergeRequests(newer, fresh, known.current).list;
          nextBefore = read.nextBefore;
          listRef.current = next;
          // An older page asked for before belongs to the list replaced.
          listGen.current++;
          const complete = read.nextBefore === null;
          // Not those deleted live meanwhile (already taken off), nor those older than a cut read reached.
          tracker.gone(goneRows(old, known.current, read, d.deleted));
          // No more can be unread than the bin holds (plus what came since it was read).
          tracker.atMost(bin.requestCount + arrivals - arrivalsAtSend);
          if (!filtered && tracker.covers(next.at(-1)?.id ?? null, complete)) tracker.recount(next.map((r) => r.id));
          // The open request was loaded and the read went past it, yet it is not there: gone.
          const open = keepFor.current.selectedId;
          const reached = complete || (read.rows.at(-1)?.id ?? '') <= (open ?? '');
          if (open && reached && old[rankOf(old, open)]?.id === open && !known.current.has(open) && !d.deleted.has(open)) {
            gone = { id: open, why: goneWhy(open, { oldestStored: next.at(-1)?.id ?? null, complete, stored: bin.requestCount, max: bin.maxRequests }) };
          }
          matched = countBetween(next, from, upTo);
        }
        const overtaken = binOrder.overtaken(bin);
        setState((s) => ({
          ...s,
          bin: overtaken ? s.bin : bin,
          list: next,
          nextBefore: nextBefore === undefined ? s.nextBefore : nextBefore,
          olderError: null,
          unreadVersion: s.unreadVersion + 1,
          deleted: gone?.why === 'deleted' ? new Set([...s.deleted, gone.id]) : s.deleted,
          evicted: gone?.why === 'evicted' ? new Set([...s.evicted, gone.id]) : s.evicted,
          backfilled: replayed ? { count: replayed, matched: filtered ? matched : null, at: Date.now() } : s.backfilled,
        }));
        shownUnread = tracker.version;
        listCurrent = true;
        unsaid = null;
      } catch {
        // Offline again, or the server busy: the list stays as the replay left it; the next
        // reconnect reads it again.
        if (alive && gen === resyncGen) unsaid = null;
        // No tally of captures kept growing until the next drop.
        if (drop === dropped) drop = null;
        if (alive && gen === resyncGen && replayed) setState((s) => ({ ...s, backfilled: { count: replayed, matched: null, at: Date.now() } }));
      } finally {
        if (during === d) during = null;
      }
    };

    let unsubscribe: (() => void) | null = null;
    (async () => {
      try {
        // Settled apart: a filter the server refuses (a 400, e.g. ?status=abc from a link) is
        // the filter's error, said at the filter; the bin loads and goes live all the same.
        const sentAt = Date.now();
        // Unread counts the bin's captures after its newest as the page opened: a filtered
        // first page knows only its newest match, so the newest capture is read too.
        const newestOfBin = filtered && !tracker.isStarted ? api.listRequests(binId, { limit: 1 }) : Promise.resolve(null);
        const [binR, pageR, newestR] = await Promise.allSettled([api.getBin(binId), api.listRequests(binId, { limit: FIRST_PAGE }, f), newestOfBin]);
        if (!alive) return;
        if (binR.status === 'rejected') throw binR.reason;
        const bin = binR.value;
        const badFilter = pageR.status === 'rejected' ? filterRefusal(filtered, pageR.reason) : null;
        if (pageR.status === 'rejected' && !badFilter) throw pageR.reason;
        const page = pageR.status === 'fulfilled' ? pageR.value : { requests: [], nextBefore: null };
        refused = !!badFilter;
        firstLoaded = true;
        counter.set(bin.requestCount, sentAt);
        maxRequests = bin.maxRequests;
        const count = counter.value;
        shownCount = count;
        // The first page is not "unread": it was there before the page opened.
        const { list } = mergeRequests(listRef.current, page.requests, known.current);
        listRef.current = list;
        const newest = newestR.status === 'fulfilled' && newestR.value ? newestR.value.requests[0] : page.requests[0];
        tracker.start(newest?.id ?? '');
        if (list[0]) seen(list[0].id);
        search.setFloor(list[0]?.id);
        // Captures asked about before the first page was read are asked now.
        if (search.waiting) void catchUp();
        setState((s) => ({ ...s, bin, list, nextBefore: page.nextBefore, loading: false, filterError: badFilter, count }));
        // Join the room, replaying anything newer than what the page holds ("0" sorts
        // before every id, so an empty bin gets all that arrived since the fetch). Under a
        // refused filter nothing can match: no replay of the whole bin (null), new ones only.
        /** Where the last (re)subscribe resumed. */
        let resumedFrom: string | null = null;
        unsubscribe = subscribeBin(
          binId,
          // Asked as each (re)subscribe is sent: its replay follows, until its answer.
          () => {
            counter.joining();
            resumedFrom = lastSeen.current ?? (badFilter ? null : '0');
            return resumedFrom;
          },
          (ack, reconnect) => {
            if (!alive) return;
            // Joined (or not): the replay of what came meanwhile may overlap what the first read
            // (or the last, before a lost connection) counted, and deletions meanwhile are not
            // replayed: not counted one by one, the bin is read again.
            counter.joined();
            if (!ack.ok && ack.error === 'bin not found') setState((s) => ({ ...s, binDeleted: true }));
            else if (!ack.ok) setState((s) => ({ ...s, error: `Live updates paused: the server could not follow this bin (${ack.error ?? 'no reason given'}); retrying` }));
            else if (reconnect) {
              setState((s) => ({ ...s, error: null }));
              void resync(resumedFrom, lastSeen.current, ack.backfilled ?? 0);
            }
          },
        );
      } catch (err) {
        if (!alive) return;
        const missing = isNotFound(err);
        setState((s) => ({ ...s, loading: false, binMissing: missing && !s.binDeleted, error: missing ? null : errorMessage(err) }));
      }
    })();

    return () => {
      alive = false;
      counter.stop();
      unsubscribe?.();
      socket.off('request', onRequest);
      socket.off('requests:updated', onUpdated);
      socket.off('requests:deleted', onDeleted);
      socket.off('bin:updated', onBinUpdated);
      socket.off('bin:deleted', onBinDeleted);
      socket.off('settings:changed', onSettings);
      socket.off('disconnect', onDisconnect);
      clearTimeout(rereadTimer);
    };
  }, [binId, filterKey]);

  const loadOlder = useCallback(async () => {
    const before = state.nextBefore;
    if (!before || loadingOlderRef.current) return;
    loadingOlderRef.current = true;
    setState((s) => ({ ...s, loadingOlder: true }));
    const gen = listGen.current;
    try {
      const page = await api.listRequests(binId, { limit: OLDER_PAGE, before }, filterRef.current);
      // The list was read anew meanwhile: merged into it, this page would follow its first
      // rows with rows far older, and what lies between would never be loaded.
      if (gen !== listGen.current) {
        setState((s) => ({ ...s, loadingOlder: false }));
        return;
      }
      const { list } = mergeRequests(listRef.current, page.requests, known.current);
      listRef.current = list;
      setState((s) => ({ ...s, list, nextBefore: page.nextBefore, loadingOlder: false, olderError: null }));
    } catch (err) {
      const message = errorMessage(err);
      setState((s) => ({ ...s, loadingOlder: false, olderError: message }));
    } finally {
      loadingOlderRef.current = false;
    }
  }, [binId, state.nextBefore, filterKey]);

  const markRead = useCallback((id: string) => {
    if (unread.current.read(id)) setState((s) => ({ ...s, unreadVersion: s.unreadVersion + 1 }));
  }, []);

  const markAllRead = useCallback(() => {
    unread.current.allRead(lastSeen.current ?? '');
    setState((s) => ({ ...s, unreadVersion: s.unreadVersion + 1 }));
  }, []);

  const setLastVisible = useCallback((i: number) => {
    lastVisible.current = i;
  }, []);

  /** What a live batch must not trim: the open request's row, and at least `floor` rows. */
  const setKeepFor = useCallback((selectedId: string | null, floor: number) => {
    keepFor.current = { selectedId, floor };
  }, []);

  /**
   * Change the bin (a rename, its row labels) and show the answer, unless a live update came
   * while it was out: that update (another tab's change after ours) is newer than the answer.
   */
  const writeBin = useCallback(async (write: () => Promise<Bin>) => {
    const bin = await binOrder.ask(write);
    if (!binOrder.overtaken(bin)) setState((s) => (s.bin && s.bin.id !== bin.id ? s : { ...s, bin }));
    return bin;
  }, []);
  /** Something answered 404 for the bin itself: it is gone. */
  const markDeleted = useCallback(() => setState((s) => ({ ...s, binDeleted: true })), []);
  const clearError = useCallback(() => setState((s) => ({ ...s, error: null })), []);

  return { ...state, unread: unread.current, unreadCount: unread.current.count, loadOlder, markRead, markAllRead, setLastVisible, setKeepFor, writeBin, markDeleted, clearError };
}
