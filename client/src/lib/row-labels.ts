// Labels for list rows that need the detail (live rows carry no headers or body): fetched for
// rows on screen only, a few at a time, small JSON bodies only (or, for a bin with header:
// sources, the headers), remembered by id and the bin's sources. The bin page provides the
// bin's `labelFrom` through RowLabelSources; a change relabels the rows on screen.
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { RequestItem } from '../../../shared/api.ts';
import { api } from './api.ts';
import { dispatchLabel, fullLabel, needsDetail, quickLabel } from './row-label.ts';

const MAX_BODY = 64 * 1024;
const CONCURRENCY = 2;
const REMEMBER = 5000;

/** The current bin's label sources (`Bin.labelFrom`); undefined or empty: the built-in rules. */
export const RowLabelSources = createContext<readonly string[] | undefined>(undefined);

interface Job {
  binId: string;
  row: RequestItem;
  sources: readonly string[] | null;
  /** Said when the detail cannot be had. */
  fallback: string | null;
}

/** Keyed by `${sources}\n${id}`: the same row under other sources is another label. */
const cache = new Map<string, string | null>();
const waiting = new Map<string, Job>();
const listeners = new Map<string, Set<(l: string | null) => void>>();
let running = 0;

function remember(key: string, label: string | null) {
  cache.set(key, label);
  if (cache.size > REMEMBER) cache.delete(cache.keys().next().value!);
  for (const l of listeners.get(key) ?? []) l(label);
}

function pump() {
  while (running < CONCURRENCY && waiting.size) {
    const [key, job] = waiting.entries().next().value!;
    waiting.delete(key);
    // Scrolled past before its turn came: skip it (it is asked for again when seen).
    if (!listeners.get(key)?.size) continue;
    running++;
    api
      .getRequest(job.binId, job.row.id)
      .then(
        (d) => {
          let body: unknown = null;
          if (d.bodyEncoding === 'utf8' && d.body && d.size <= MAX_BODY) {
            try {
              body = JSON.parse(d.body);
            } catch {
              body = null;
            }
          }
          remember(key, fullLabel(job.row, job.sources, body, d.headers));
        },
        () => remember(key, job.fallback),
      )
      .finally(() => {
        running--;
        pump();
      });
  }
}

export function useRowLabel(binId: string, r: RequestItem): string | null {
  const given = useContext(RowLabelSources);
  const sources = given?.length ? given : null;
  const sourcesKey = sources ? JSON.stringify(sources) : '';
  const key = `${sourcesKey}\n${r.id}`;
  const quick = dispatchLabel(r);
  const [label, setLabel] = useState<string | null>(() => (cache.has(key) ? cache.get(key)! : quickLabel(r, sources)));
  /** The row the label on screen is about: new sources keep it until theirs is known. */
  const shownFor = useRef<string | null>(null);
  useEffect(() => {
    const firstLook = shownFor.current !== r.id;
    shownFor.current = r.id;
    if (cache.has(key)) return setLabel(cache.get(key)!);
    const provisional = quickLabel(r, sources);
    if (!needsDetail(r, MAX_BODY, sources)) return setLabel(provisional);
    // Until the detail says more (e.g. GitHub's "action"), what the row tells.
    if (firstLook) setLabel(provisional);
    let set = listeners.get(key);
    if (!set) listeners.set(key, (set = new Set()));
    set.add(setLabel);
    // A short wait, so rows flying past during a fast scroll are never fetched.
    const t = setTimeout(() => {
      if (!cache.has(key) && !waiting.has(key)) waiting.set(key, { binId, row: r, sources, fallback: provisional });
      pump();
    }, 120);
    return () => {
      clearTimeout(t);
      set!.delete(setLabel);
      if (set!.size === 0) listeners.delete(key);
    };
  }, [binId, r.id, quick, sourcesKey]);
  return label;
}
