// End-to-end helpers: build the UI (once, shared by parallel test files), start hooklab the
// way `npm start` does (a child process on PORT=0 with its own DATA_DIR), drive Debian's
// Chromium with playwright-core, save screenshots to test-artifacts/.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { SERVER_ARGS } from './process.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const DIST_INDEX = path.join(ROOT, 'dist/client/index.html');
const LOCK = path.join(ROOT, 'node_modules/.cache/hooklab-ui-build.lock');

function newestMtime(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of readdirSync(p)) max = Math.max(max, newestMtime(path.join(p, name)));
  return max;
}

function uiIsFresh(): boolean {
  if (!existsSync(DIST_INDEX)) return false;
  const built = statSync(DIST_INDEX).mtimeMs;
  const sources = Math.max(newestMtime(path.join(ROOT, 'client')), newestMtime(path.join(ROOT, 'shared')), statSync(path.join(ROOT, 'vite.config.ts')).mtimeMs);
  return built >= sources;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `npm run build`, unless dist/client is newer than every source. Test files run in
 * parallel workers; a lock directory makes one of them build while the others wait.
 */
export async function ensureBuilt(): Promise<void> {
  if (uiIsFresh()) return;
  mkdirSync(path.dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Someone else is building. A lock older than two minutes is left over from a crash.
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 120_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      await sleep(100);
    }
  }
  try {
    if (uiIsFresh()) return;
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export interface RunningApp {
  /** http://127.0.0.1:<port> */
  base: string;
  dataDir: string;
  proc: ChildProcess;
  /** Everything the server printed. */
  output: () => string;
  /** The bin URL as the server shows it, rewritten to the address the server listens on. */
  reachable: (url: string) => string;
  stop: () => Promise<void>;
}

/** Build if needed, then start `node --import tsx server/main.ts` like `npm start`. */
export async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
  await ensureBuilt();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hooklab-e2e-'));
  const proc = spawn(process.execPath, SERVER_ARGS, {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const base = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /hooklab ready on (http:\/\/[^\s"]+)/.exec(out);
      if (m) {
        proc.stdout!.off('data', onData);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`hooklab exited (${code}) before listening:\n${out}`)));
  });
  const origin = new URL(base);
  let stopped: Promise<void> | null = null;
  return {
    base,
    dataDir,
    proc,
    output: () => out,
    reachable: (url: string) => {
      const u = new URL(url);
      return origin.origin + u.pathname + u.search;
    },
    stop: () =>
      (stopped ??= (async () => {
        if (proc.exitCode === null) {
          const exited = new Promise((r) => proc.once('exit', r));
          proc.kill('SIGTERM');
          await exited;
        }
        await rm(dataDir, { recursive: true, force: true });
      })()),
  };
}

export const CHROMIUM = '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface TestPage {
  context: BrowserContext;
  page: Page;
  /** Console errors, page errors and CSP violations seen so far. */
  problems: string[];
}

export async function openPage(
  browser: Browser,
  base: string,
  opts: { width?: number; height?: number; colorScheme?: 'light' | 'dark'; isMobile?: boolean } = {},
): Promise<TestPage> {
  const context = await browser.newContext({
    baseURL: base,
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 860 },
    colorScheme: opts.colorScheme ?? 'light',
    isMobile: opts.isMobile,
    hasTouch: opts.isMobile,
    acceptDownloads: true,
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  return { context, page, problems };
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

export interface Sent {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

// Idle sockets are dropped after 2 s, well before the server's keep-alive timeout (5 s): reused
// at that instant, one was reset as the server closed it ("socket hang up" in a clean-clone
// run). Node's agent takes the server's Keep-Alive hint, 5 s, as its own: the same instant.
// (Sending again on such a reset would be wrong here: a bin's "reset" fault is one too.)
const agent = new http.Agent({ keepAlive: true, maxSockets: 32, timeout: 2000 });

/** One HTTP request to a receiver URL (keep-alive, so bursts are cheap). */
export function hit(url: string, opts: { method?: string; headers?: Record<string, string> | [string, string][]; body?: string | Buffer } = {}): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers = Array.isArray(opts.headers) ? [['Host', u.host], ...opts.headers].flat() : opts.headers;
    // The path exactly as written (new URL() would percent-encode characters such as <).
    const rawPath = url.slice(u.origin.length).replace(/#.*$/, '') || '/';
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method: opts.method ?? 'POST', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Send `n` requests with at most `concurrency` in flight; `make(i)` builds each. */
export async function hitMany(n: number, concurrency: number, make: (i: number) => Parameters<typeof hit>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await hit(...make(i));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

/** JSON API call from the test (not through the UI). */
export async function apiCall<T = unknown>(base: string, method: string, p: string, body?: unknown): Promise<T> {
  const r = await fetch(base + p, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

export function closeAgents() {
  agent.destroy();
}

/** A browser test file's hooklab and Chromium page (see startAppAndPage). */
export interface AppAndPage {
  app: RunningApp;
  browser: Browser;
  tp: TestPage;
  page: Page;
}

/** Start a hooklab (with `env`) and Chromium, and open a page on the app: a browser test file's beforeAll. */
export async function startAppAndPage(env: Record<string, string> = {}): Promise<AppAndPage> {
  const [app, browser] = await Promise.all([startApp(env), launchBrowser()]);
  const tp = await openPage(browser, app.base);
  return { app, browser, tp, page: tp.page };
}

/** Stop a browser test file's hooklab and Chromium (either may be missing when its start failed): its afterAll. */
export async function stopAppAndPage(s: { app?: RunningApp; browser?: Browser }): Promise<void> {
  await s.browser?.close();
  await s.app?.stop();
  closeAgents();
}

/** Wait until `fn(arg)` is truthy in the page (Playwright polls on animation frames). */
export async function until<A>(page: Page, fn: (arg: A) => unknown, arg?: A): Promise<void> {
  await page.waitForFunction(fn as (arg: unknown) => unknown, arg);
}

/** The rows of a name/value table (headers, query, form fields) as [name, value] pairs. */
export function tablePairs(page: Page, testId: string): Promise<[string, string][]> {
  return page.$$eval(`[data-testid="${testId}"] tr`, (rows) =>
    rows.map((r) => [(r as HTMLTableRowElement).cells[0].textContent ?? '', (r as HTMLTableRowElement).cells[1].textContent ?? ''] as [string, string]),
  );
}

/**
 * Elements that reach past the viewport's right edge (tag.class and width), widest first:
 * what a failed "fits the screen" check should name. A string, not a function, because the
 * test transpiler adds helpers to functions that the page does not have.
 */
export function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(`(() => {
    const w = document.documentElement.clientWidth;
    return [...document.querySelectorAll('body *')]
      .map((e) => [e, e.getBoundingClientRect()])
      .filter(([, r]) => r.right > w + 0.5 && r.width > 0)
      .sort((a, b) => b[1].right - a[1].right)
      .slice(0, 5)
      .map(([e, r]) => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '') + ' right=' + Math.round(r.right) + ' text=' + JSON.stringify((e.textContent || '').slice(0, 40)));
  })()`);
}

/** axe-core's WCAG 2.1 A and AA rules on the page as it is now; answers the violations. */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string | null; help: string; nodes: string[] }[]> {
  const source = readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
  // evaluate() runs through the debugger protocol, so the page's CSP (no inline script) does not stop it.
  await page.evaluate(source);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: unknown) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
}

/**
 * Tab through `form` (a selector) from its first focusable element to its sticky Save bar
 * (`.save-bar`): how many stops there were, and each where the focused element is partly
 * behind that bar or the sticky app bar, with how many px are hidden (none: every stop could
 * be seen whole). Strings for the page, like `overflowing`.
 */
export async function tabStopsHidden(page: Page, form: string, maxStops = 80): Promise<{ stops: number; hidden: string[] }> {
  await page.evaluate(`(() => {
    const f = document.querySelector(${JSON.stringify(form)});
    f.querySelector('input, select, textarea, button, a[href]').focus();
  })()`);
  const hidden: string[] = [];
  for (let stops = 0; stops < maxStops; stops++) {
    const r = (await page.evaluate(`(() => {
      const form = document.querySelector(${JSON.stringify(form)});
      const el = document.activeElement;
      if (!el || !form.contains(el)) return { done: true };
      const bar = form.querySelector('.save-bar');
      if (bar && bar.contains(el)) return { done: true };
      const e = el.getBoundingClientRect();
      const b = bar.getBoundingClientRect();
      const top = document.querySelector('.app-bar').getBoundingClientRect();
      const below = Math.max(0, Math.min(e.bottom, b.bottom) - Math.max(e.top, b.top));
      const above = Math.max(0, Math.min(e.bottom, top.bottom) - Math.max(e.top, top.top));
      const name = el.tagName.toLowerCase() + (el.getAttribute('data-testid') ? '[' + el.getAttribute('data-testid') + ']' : '') + ' "' + (el.textContent || el.getAttribute('aria-label') || el.id || '').trim().slice(0, 30) + '"';
      return { done: false, name, below: Math.round(below), above: Math.round(above) };
    })()`)) as { done: boolean; name?: string; below?: number; above?: number };
    if (r.done) return { stops, hidden };
    if (r.below || r.above) hidden.push(`${r.name}: ${r.below ? `${r.below}px behind the Save bar` : `${r.above}px behind the app bar`}`);
    await page.keyboard.press('Tab');
  }
  throw new Error(`${maxStops} Tab stops without reaching the Save bar of ${form}`);
}
