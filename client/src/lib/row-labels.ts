// Labels for list rows that need the body (live rows carry no headers or body): fetched for
// rows on screen only, a few at a time, small JSON bodies only, remembered by id.
import { useEffect, useState } from 'preact/hooks';
import type { RequestItem } from '../../../shared/api.ts';
import { api } from './api.ts';
import { dispatchLabel, headerLabel, labelFrom, mayHaveLabel } from './row-label.ts';

const MAX_BODY = 64 * 1024;
const CONCURRENCY = 2;
const REMEMBER = 5000;

const cache = new Map<string, string | null>();
const waiting = new Map<string, { binId: string; wanted: number }>();
const listeners = new Map<string, Set<(l: string | null) => void>>();
let running = 0;

function remember(id: string, label: string | null) {
  cache.set(id, label);
  if (cache.size > REMEMBER) cache.delete(cache.keys().next().value!);
  for (const l of listeners.get(id) ?? []) l(label);
}

function pump() {
  while (running < CONCURRENCY && waiting.size) {
    const [id, job] = waiting.entries().next().value!;
    waiting.delete(id);
    // Scrolled past before its turn came: skip it (it is asked for again when seen).
    if (!listeners.get(id)?.size) continue;
    running++;
    api
      .getRequest(job.binId, id)
      .then(
        (d) => {
          let body: unknown = null;
          if (d.bodyEncoding === 'utf8') {
            try {
              body = JSON.parse(d.body);
            } catch {
              body = null;
            }
          }
          remember(id, labelFrom(body, d.headers));
        },
        () => remember(id, null),
      )
      .finally(() => {
        running--;
        pump();
      });
  }
}

export function useRowLabel(binId: string, r: RequestItem): string | null {
  const quick = dispatchLabel(r);
  const [label, setLabel] = useState<string | null>(() => quick ?? (cache.has(r.id) ? cache.get(r.id)! : headerLabel(r)));
  useEffect(() => {
    if (quick) return setLabel(quick);
    if (cache.has(r.id)) return setLabel(cache.get(r.id)!);
    // Until the body says more (e.g. GitHub's "action"), the header's name.
    setLabel(headerLabel(r));
    if (!mayHaveLabel(r, MAX_BODY)) return;
    let set = listeners.get(r.id);
    if (!set) listeners.set(r.id, (set = new Set()));
    set.add(setLabel);
    // A short wait, so rows flying past during a fast scroll are never fetched.
    const t = setTimeout(() => {
      if (!cache.has(r.id) && !waiting.has(r.id)) waiting.set(r.id, { binId, wanted: Date.now() });
      pump();
    }, 120);
    return () => {
      clearTimeout(t);
      set!.delete(setLabel);
      if (set!.size === 0) listeners.delete(r.id);
    };
  }, [binId, r.id, quick]);
  return label;
}
