import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ConnectionBadge } from './components/ConnectionBadge.tsx';
import { onUnauthorized } from './lib/api.ts';
import { Link, matchRoute, useLocation } from './lib/router.ts';
import { BinPage } from './pages/BinPage.tsx';
import { StartPage } from './pages/StartPage.tsx';

// The dispatcher console is its own chunk: the inspector loads without it.
let Dispatcher: FunctionComponent | null = null;
function LazyDispatcher() {
  const [C, setC] = useState<FunctionComponent | null>(() => Dispatcher);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (C) return;
    import('./pages/DispatcherPage.tsx').then(
      (m) => {
        Dispatcher = m.DispatcherPage;
        setC(() => m.DispatcherPage);
      },
      () => setFailed(true),
    );
  }, []);
  if (failed) return <p class="notice notice-bad">Could not load the dispatcher. Reload the page.</p>;
  return C ? <C /> : <p class="muted">Loading…</p>;
}

function Routes({ path, search }: { path: string; search: URLSearchParams }) {
  if (path === '/' || path === '') return <StartPage />;
  if (path === '/dispatcher') return <LazyDispatcher />;
  let m = matchRoute('/bins/:id', path);
  if (m) return <BinPage key={m.id} binId={m.id} requestId={null} tab="requests" search={search} />;
  m = matchRoute('/bins/:id/requests/:rid', path);
  if (m) return <BinPage key={m.id} binId={m.id} requestId={m.rid} tab="requests" search={search} />;
  for (const tab of ['response', 'forward', 'verify'] as const) {
    m = matchRoute(`/bins/:id/${tab}`, path);
    if (m) return <BinPage key={m.id} binId={m.id} requestId={null} tab={tab} search={search} />;
  }
  return (
    <div class="page-narrow">
      <h1>Not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <Link href="/">Go to the start page</Link>.
      </p>
    </div>
  );
}

export function App() {
  const { path, search } = useLocation();
  const [signedOut, setSignedOut] = useState(false);
  useEffect(() => onUnauthorized(() => setSignedOut(true)), []);
  // Focus the main region on navigation so keyboard and screen-reader users land on the page.
  useEffect(() => {
    document.getElementById('main')?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [path.split('/').slice(0, 3).join('/')]);
  const section = path.startsWith('/dispatcher') ? 'dispatcher' : 'bins';
  return (
    <>
      <a href="#main" class="skip-link">
        Skip to content
      </a>
      <header class="app-bar">
        <Link href="/" class="brand" aria-label="hooklab home">
          <span class="brand-mark" aria-hidden="true">
            ⚓
          </span>
          hooklab
        </Link>
        <nav aria-label="Main" class="app-nav">
          <Link href="/" aria-current={section === 'bins' ? 'page' : undefined}>
            Bins
          </Link>
          <Link href="/dispatcher" aria-current={section === 'dispatcher' ? 'page' : undefined} data-testid="nav-dispatcher">
            Dispatcher
          </Link>
        </nav>
        <span class="spacer" />
        <ConnectionBadge />
      </header>
      {signedOut && (
        <p class="notice notice-bad banner" role="alert">
          The server asked for the access token again. <a href="/">Reload to sign in</a>.
        </p>
      )}
      <main id="main" tabIndex={-1}>
        <Routes path={path} search={search} />
      </main>
    </>
  );
}
