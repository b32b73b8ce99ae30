// A tiny history router: the current path as a hook, navigate(), and a <Link> that keeps
// ordinary link behaviour (middle click, Ctrl/Cmd click open a new tab).
import { h, type ComponentChildren, type JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';

const EVENT = 'hooklab:navigate';

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
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
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
