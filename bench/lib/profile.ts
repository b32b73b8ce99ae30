// Summarise a V8 .cpuprofile (written by `node --cpu-prof`): where the busy time went, by
// area (hooklab source, a package, Node internals, GC) and by function, self and inclusive.
import { mkdir, readFile, writeFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * A part of a profile to look at, in microseconds of CLOCK_MONOTONIC: V8 stamps samples with
 * it, and `process.hrtime.bigint() / 1000n` in any process on the machine reads the same clock.
 * The dispatcher benchmark writes the window of each advance next to the profile
 * (`window-<pid>.json`, see profileWindowFile), so the summary leaves out the set-up.
 */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

/** Now, on the clock profiles are stamped with (microseconds). */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** Where a benchmark puts the windows for the profile of process `pid` (in that profile's folder). */
export const profileWindowFile = (dir: string, pid: number) => `${dir}/window-${pid}.json`;

/** Add a measured window to the profile of process `pid` written into `dir` (see ProfileWindow). */
export async function addProfileWindow(dir: string, pid: number, w: ProfileWindow): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = profileWindowFile(dir, pid);
  const list = JSON.parse(await readFile(file, 'utf8').catch(() => '[]')) as ProfileWindow[];
  await writeFile(file, JSON.stringify([...list, w]));
}

/** The pid in a --cpu-prof file name: CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile. */
export const profilePid = (file: string) => Number(/CPU\.\d+\.\d+\.(\d+)\./.exec(file)?.[1] ?? NaN);

function area(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/').slice(0, 2).join('/');
  const m = /\/(server|shared|bench)\/(.*)$/.exec(url);
  if (m) return `${m[1]}/${m[2]}`;
  return url;
}

function label(n: ProfileNode): string {
  const f = n.callFrame;
  const where = f.url ? `${area(f.url, f.functionName)}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
}

export interface ProfileSummary {
  busyMs: number;
  byArea: { name: string; ms: number; pct: number }[];
  bySelf: { name: string; ms: number; pct: number }[];
  byInclusive: { name: string; ms: number; pct: number }[];
}

export async function analyzeProfile(file: string, windows: ProfileWindow[] = []): Promise<ProfileSummary> {
  const p = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // Sample i is taken at startTime + the sum of timeDeltas[0..i]; with windows, only the
  // samples inside one of them count.
  let t = p.startTime;
  const inside = (at: number) => windows.length === 0 || windows.some((w) => at >= w.fromUs && at <= w.toUs);
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (!inside(t)) continue;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  }
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  let busy = 0;
  for (const [id, t] of self) if (!idle.has(id)) busy += t;

  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const areas = new Map<string, number>();
  const selfBy = new Map<string, number>();
  for (const [id, t] of self) {
    if (idle.has(id)) continue;
    const n = byId.get(id)!;
    add(areas, area(n.callFrame.url, n.callFrame.functionName), t);
    add(selfBy, label(n), t);
  }
  // Inclusive: walk the tree once; a function that recurses is counted at its outermost frame.
  const incl = new Map<string, number>();
  const total = (id: number): number => {
    const n = byId.get(id)!;
    let t = idle.has(id) ? 0 : (self.get(id) ?? 0);
    for (const c of n.children ?? []) t += total(c);
    totals.set(id, t);
    return t;
  };
  const totals = new Map<number, number>();
  const root = p.nodes[0];
  total(root.id);
  const walk = (id: number, open: Set<string>) => {
    const n = byId.get(id)!;
    const l = label(n);
    const fresh = !open.has(l);
    if (fresh) add(incl, l, totals.get(id) ?? 0);
    const next = fresh ? new Set(open).add(l) : open;
    for (const c of n.children ?? []) walk(c, next);
  };
  walk(root.id, new Set());
  const top = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, t]) => ({ name, ms: Math.round(t), pct: Math.round((t / busy) * 1000) / 10 }));
  return {
    busyMs: Math.round(busy),
    byArea: top(areas, 15),
    bySelf: top(selfBy, 25),
    byInclusive: top(new Map([...incl].filter(([k]) => !k.startsWith('(root)'))), 40),
  };
}

export async function summarizeProfile(file: string, windows: ProfileWindow[] = []): Promise<string> {
  const s = await analyzeProfile(file, windows);
  const span = windows.reduce((t, w) => t + (w.toUs - w.fromUs) / 1000, 0);
  const lines = [
    `busy (non-idle) CPU time: ${s.busyMs} ms` +
      (windows.length ? ` (only the ${windows.length} measured window${windows.length > 1 ? 's' : ''}: ${Math.round(span)} ms of wall time)` : ''),
    '',
    'self time by area:',
  ];
  for (const a of s.byArea) lines.push(`  ${a.pct.toFixed(1).padStart(5)}%  ${String(a.ms).padStart(6)} ms  ${a.name}`);
  lines.push('', 'self time by function (top 25):');
  for (const a of s.bySelf) lines.push(`  ${a.pct.toFixed(1).padStart(5)}%  ${String(a.ms).padStart(6)} ms  ${a.name}`);
  lines.push('', 'inclusive time by function (top 40):');
  for (const a of s.byInclusive) lines.push(`  ${a.pct.toFixed(1).padStart(5)}%  ${String(a.ms).padStart(6)} ms  ${a.name}`);
  return lines.join('\n');
}

/** The windows recorded for a profile (none: the whole profile). */
export async function windowsFor(file: string): Promise<ProfileWindow[]> {
  try {
    const path = profileWindowFile(file.slice(0, file.lastIndexOf('/')), profilePid(file.slice(file.lastIndexOf('/') + 1)));
    return JSON.parse(await readFile(path, 'utf8')) as ProfileWindow[];
  } catch {
    return [];
  }
}

// `node --import tsx bench/lib/profile.ts FILE.cpuprofile [--all]` prints the summary (of the
// recorded windows, when there are some, unless --all).
if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  (process.argv.includes('--all') ? Promise.resolve([]) : windowsFor(file)).then((w) => summarizeProfile(file, w)).then(console.log, (e) => {
    console.error(e);
    process.exit(1);
  });
}
