// `npm run bench [-- NAME...] [-- --profile]`: runs the benchmarks (all, or the ones named:
// capture, latency, storage, dispatcher, memory, writes, startup, viewer, forward, verify, redis, render), prints a table per benchmark with PASS/MISS next to
// each goal, and writes bench/results/latest.json. Exits non-zero only when something
// crashed, never because a goal was missed.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { captureThroughput } from './capture-throughput.ts';
import { dispatcherBench } from './dispatcher.ts';
import { forwardBench } from './forward.ts';
import { removeAllDataDirs, removeAllDataDirsSync, removeServerSnapshotSync, snapshotServerBuild } from './lib/hooklab.ts';
import { installCleanup, killAll, ROOT } from './lib/proc.ts';
import { summarizeProfile, windowsFor } from './lib/profile.ts';
import type { Bench, BenchResult, Goal } from './lib/result.ts';
import { renderTable } from './lib/table.ts';
import { withTimeout } from './lib/time.ts';
import { liveLatency } from './live-latency.ts';
import { memoryBench } from './memory.ts';
import { redisBench } from './redis.ts';
import { renderBench } from './render.ts';
import { startupBench } from './startup.ts';
import { verifyBench } from './verify.ts';
import { viewerBench } from './viewer.ts';
import { writesBench } from './writes.ts';
import { storageBench } from './storage.ts';

const BENCHES: { name: string; aliases: string[]; run: Bench; boundMs: number }[] = [
  { name: 'capture', aliases: ['capture-throughput', 'throughput'], run: captureThroughput, boundMs: 9 * 60_000 },
  { name: 'latency', aliases: ['live-latency', 'live'], run: liveLatency, boundMs: 3 * 60_000 },
  { name: 'storage', aliases: [], run: storageBench, boundMs: 10 * 60_000 },
  { name: 'dispatcher', aliases: ['dispatch'], run: dispatcherBench, boundMs: 10 * 60_000 },
  { name: 'memory', aliases: ['rss'], run: memoryBench, boundMs: 5 * 60_000 },
  { name: 'writes', aliases: ['write-amplification'], run: writesBench, boundMs: 4 * 60_000 },
  { name: 'startup', aliases: ['start-up', 'start'], run: startupBench, boundMs: 5 * 60_000 },
  { name: 'viewer', aliases: ['stuck-viewer'], run: viewerBench, boundMs: 5 * 60_000 },
  { name: 'forward', aliases: ['forwarding', 'proxy'], run: forwardBench, boundMs: 12 * 60_000 },
  { name: 'verify', aliases: ['verification', 'signatures'], run: verifyBench, boundMs: 8 * 60_000 },
  { name: 'redis', aliases: ['cluster', 'store-redis'], run: redisBench, boundMs: 8 * 60_000 },
  { name: 'render', aliases: ['detail', 'ui'], run: renderBench, boundMs: 3 * 60_000 },
];

const RESULTS_DIR = path.join(ROOT, 'bench/results');

function usage(): never {
  console.error(`usage: npm run bench [-- [${BENCHES.map((b) => b.name).join('|')}]... [--profile]]`);
  process.exit(2);
}

async function main() {
  const args = process.argv.slice(2);
  const profile = args.includes('--profile');
  const names = args.filter((a) => !a.startsWith('--'));
  if (args.some((a) => a.startsWith('--') && a !== '--profile')) usage();
  const selected = names.length
    ? names.map((n) => BENCHES.find((b) => b.name === n || b.aliases.includes(n)) ?? usage())
    : BENCHES;

  installCleanup(() => {
    removeAllDataDirsSync();
    removeServerSnapshotSync();
  });
  await mkdir(RESULTS_DIR, { recursive: true });
  // Run a private copy of the build: others may rebuild dist/ during the run.
  const script = await snapshotServerBuild();
  const profileDir = profile ? path.join(RESULTS_DIR, 'profiles') : null;
  if (profileDir) {
    await rm(profileDir, { recursive: true, force: true });
    await mkdir(profileDir, { recursive: true });
  }

  const cpus = os.cpus();
  const machine = {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    memoryGB: Math.round(os.totalmem() / 1024 ** 3),
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
  const versionAtStart = serverVersion();
  console.log(`hooklab benchmarks — ${new Date().toISOString()} — hooklab at ${versionAtStart}`);
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGB} GB, node ${machine.node}, ${machine.platform}, load ${machine.loadavg.join(' ')}`);
  console.log(`All figures from loopback (127.0.0.1); servers under test are child processes (hooklab: node ${script}, a copy of dist/server made at the start), the load generator is this process.\n`);

  const log = (m: string) => console.error(`[bench] ${m}`);
  const results: BenchResult[] = [];
  const crashes: { name: string; error: string }[] = [];
  for (const b of selected) {
    log(`${b.name}: start`);
    const t0 = performance.now();
    try {
      const r = await withTimeout(b.run({ profileDir, log }), b.boundMs, `benchmark ${b.name}`);
      results.push(r);
      printResult(r);
    } catch (err) {
      const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
      crashes.push({ name: b.name, error: msg });
      console.log(`\n${b.name}: CRASHED\n${msg}\n`);
      killAll(); // whatever that benchmark left running
      await removeAllDataDirs();
    }
    log(`${b.name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  const goals: (Goal & { bench: string })[] = results.flatMap((r) => r.goals.map((g) => ({ bench: r.name, ...g })));
  if (goals.length) {
    console.log(
      renderTable({
        title: 'Goals',
        columns: ['benchmark', 'goal', 'target', 'measured', ''],
        rows: goals.map((g) => [g.bench, g.name, g.target, g.value, g.pass ? 'PASS' : 'MISS']),
      }),
    );
    console.log(`\n${goals.filter((g) => g.pass).length} of ${goals.length} goals met.`);
  }

  if (profileDir) {
    // One folder per profiled process: <bench> for hooklab, capture-bare / capture-express.
    for (const sub of (await readdir(profileDir)).sort()) {
      const file = await mainThreadProfile(path.join(profileDir, sub));
      // A benchmark may have recorded which part of the process's life it measured.
      const summary = file ? await summarizeProfile(file, await windowsFor(file)).catch(() => null) : null;
      if (summary) console.log(`\nCPU profile "${sub}" (${path.relative(ROOT, file!)}):\n${summary}`);
    }
  }

  const versionAtEnd = serverVersion();
  if (versionAtEnd !== versionAtStart) {
    console.log(`\nWARNING: the server code changed during the run (${versionAtStart} -> ${versionAtEnd}): later benchmarks measured other code. Run again.`);
  }
  const out = path.join(RESULTS_DIR, 'latest.json');
  await writeFile(
    out,
    JSON.stringify({ at: new Date().toISOString(), machine, hooklab: { atStart: versionAtStart, atEnd: versionAtEnd }, results, goals, crashes }, null, 2),
  );
  console.log(`\nJSON: ${path.relative(ROOT, out)}`);
  await removeAllDataDirs();
  removeServerSnapshotSync();
  if (crashes.length) process.exitCode = 1;
}

/**
 * `--cpu-prof` writes one profile per thread (tsx runs its loader hooks in a worker); the
 * main thread's is the big one.
 */
async function mainThreadProfile(dir: string): Promise<string | null> {
  const files = await readdir(dir).catch(() => [] as string[]);
  let best: { file: string; size: number } | null = null;
  for (const f of files.filter((f) => f.endsWith('.cpuprofile'))) {
    const size = (await stat(path.join(dir, f))).size;
    if (!best || size > best.size) best = { file: path.join(dir, f), size };
  }
  return best?.file ?? null;
}

/**
 * Which server code is measured: the commit, plus a hash of the uncommitted changes under
 * server/ and shared/ when there are any (the tree is shared with people editing it).
 */
function serverVersion(): string {
  try {
    const git = (...a: string[]) => execFileSync('git', a, { cwd: ROOT, encoding: 'utf8' }).trim();
    const head = git('rev-parse', '--short', 'HEAD');
    const untracked = git('ls-files', '--others', '--exclude-standard', '--', 'server', 'shared');
    const diff = git('diff', 'HEAD', '--', 'server', 'shared') + untracked;
    return diff ? `${head}+uncommitted:${createHash('sha256').update(diff).digest('hex').slice(0, 8)}` : head;
  } catch {
    return 'unknown';
  }
}

function printResult(r: BenchResult) {
  console.log(`\n=== ${r.title}`);
  for (const t of r.tables) console.log(renderTable(t) + '\n');
  for (const g of r.goals) console.log(`  goal: ${g.name} ${g.target}: ${g.value}  ${g.pass ? 'PASS' : 'MISS'}`);
}

main().catch(async (err) => {
  console.error(err);
  killAll();
  await removeAllDataDirs().catch(() => {});
  process.exit(1);
});
