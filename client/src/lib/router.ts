// A tiny history router: the current path as a hook, navigate(), and a <Link> that keeps
// ordinary link behaviour (middle click, Ctrl/Cmd click open a new tab).
import { h, type ComponentChildren, type JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

const EVENT = 'hooklab:navigate';

// Leaving a form with unsaved edits asks first: navigate() (links, tabs), back/forward
// (popstate) and reload/close (beforeunload). A form registers a guard while mounted.
/** Each answers a question to ask before leaving, or null when there is nothing to lose. */
const guards = new Set<() => string | null>();
/** The address on screen: where a refused back/forward returns to. */
let shownUrl = typeof window === 'undefined' ? '' : window.location.pathname + window.location.search;
/**
 * The history entry on screen, by position: each entry navigate() makes carries its index
 * ({ idx }), so a refused back/forward can be undone by going the other way as far (the entries
 * ahead stay, as they do in any browser). A reload keeps the entry's state, so its index too.
 */
const idxOf = (state: unknown): number | null => (state && typeof (state as { idx?: unknown }).idx === 'number' ? (state as { idx: number }).idx : null);
let shownIdx = 0;
/** The move back after a refusal: its popstate is ours, not the user's. */
let undoing = false;

/** Whether the page may leave: asks (confirm) when a guard has unsaved edits. */
export function mayLeave(): boolean {
  for (const g of guards) {
    const question = g();
    if (question) return window.confirm(question);
  }
  return true;
}

if (typeof window !== 'undefined') {
  const start = idxOf(window.history.state);
  if (start === null) window.history.replaceState({ ...(window.history.state ?? {}), idx: 0 }, '');
  else shownIdx = start;
  // Before the router's own listeners (registered later, in useLocation): a refused
  // back/forward puts the address back and is not seen by them at all.
  window.addEventListener('popstate', (e) => {
    const to = window.location.pathname + window.location.search;
    const toIdx = idxOf(e.state);
    if (undoing) {
      undoing = false;
      e.stopImmediatePropagation();
      // Entries without an index between (a #fragment link's) make the move fall short: the
      // address is then put back as a new entry, so it names the page on screen.
      if (to !== shownUrl) window.history.pushState({ idx: ++shownIdx }, '', shownUrl);
      return;
    }
    if (to === shownUrl || mayLeave()) {
      shownUrl = to;
      if (toIdx !== null) shownIdx = toIdx;
      return;
    }
    e.stopImmediatePropagation();
    // Back where we were, by as many entries as the move went; an entry of unknown position
    // (not ours) gets the old way: the address put back as a new entry.
    if (toIdx !== null && toIdx !== shownIdx) {
      undoing = true;
      window.history.go(shownIdx - toIdx);
    } else window.history.pushState({ idx: ++shownIdx }, '', shownUrl);
  });
  window.addEventListener('beforeunload', (e) => {
    for (const g of guards) {
      if (g()) {
        e.preventDefault();
        e.returnValue = '';
        return;
      }
    }
  });
}

/**
 * While mounted: leaving (in the app, or the page) with `dirty()` true asks `question` first.
 * One hook for every form: it reads `dirty` when someone tries to leave, so no re-render costs.
 */
export function useLeaveGuard(dirty: () => boolean, question = 'You have unsaved changes. Leave without saving them?'): void {
  const d = useRef(dirty);
  d.current = dirty;
  const q = useRef(question);
  q.current = question;
  useEffect(() => {
    const g = () => (d.current() ? q.current : null);
    guards.add(g);
    return () => void guards.delete(g);
  }, []);
}

export interface Location {
  path: string;
  search: URLSearchParams;
}

function current(): Location {
  return { path: window.location.pathname, search: new URLSearchParams(window.location.search) };
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const here = window.location.pathname + window.location.search;
  if (to === here) return;
  if (!mayLeave()) return;
  shownUrl = to;
  if (opts.replace) window.history.replaceState({ idx: shownIdx }, '', to);
  else window.history.pushState({ idx: ++shownIdx }, '', to);
  window.dispatchEvent(new Event(EVENT));
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    window.addEventListener('popstate', update);
    window.addEventListener(EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(EVENT, update);
    };
  }, []);
  return loc;
}

/** Match "/bins/:id/requests/:rid" against a path; answers the params or null. */
export function matchRoute(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) {
      try {
        out[p[i].slice(1)] = decodeURIComponent(s[i]);
      } catch {
        return null;
      }
    } else if (p[i] !== s[i]) return null;
  }
  return out;
}

type LinkProps = Omit<JSX.HTMLAttributes<HTMLAnchorElement>, 'href'> & {
  href: string;
  replace?: boolean;
  children?: ComponentChildren;
};

export function Link({ href, replace, onClick, ...rest }: LinkProps) {
  return h('a', {
    ...rest,
    href,
    onClick: (e: JSX.TargetedMouseEvent<HTMLAnchorElement>) => {
      if (typeof onClick === 'function') onClick(e);
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      navigate(href, { replace });
    },
  });
}

/** App paths, with every id encoded (ids from captures or receivers are not ours to trust). */
export const paths = {
  bin: (binId: string) => `/bins/${encodeURIComponent(binId)}`,
  request: (binId: string, requestId: string) => `/bins/${encodeURIComponent(binId)}/requests/${encodeURIComponent(requestId)}`,
  response: (binId: string) => `/bins/${encodeURIComponent(binId)}/response`,
  forward: (binId: string) => `/bins/${encodeURIComponent(binId)}/forward`,
  verify: (binId: string) => `/bins/${encodeURIComponent(binId)}/verify`,
};
