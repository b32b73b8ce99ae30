// An older revision of hooklab to compare with in the same run (capture benchmark): its tree
// is exported with `git archive` (read-only for the repository: no worktree, no checkout)
// into bench/.baseline/<sha>/ (gitignored), with a symlink to the main checkout's
// node_modules, and run as that revision was run: `node --import tsx server/main.ts`.
// The export is kept between runs (it is keyed by the full commit hash).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './proc.ts';
import { withTimeout } from './time.ts';

/** BENCH_BASELINE_REV (default 9a91e4c: the last commit before the segment-file storage). */
export const BASELINE_REV = process.env.BENCH_BASELINE_REV || '9a91e4c';

export interface BaselineTree {
  rev: string;
  sha: string;
  short: string;
  /** Absolute path of the exported tree. */
  dir: string;
  /** Set when the revision asks for a package or version range the main checkout does not (its node_modules are shared). */
  depsWarning: string | null;
}

const git = (...a: string[]) => execFileSync('git', a, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

export async function prepareBaseline(rev: string, log: (m: string) => void): Promise<BaselineTree> {
  let sha: string;
  try {
    sha = git('rev-parse', '--verify', '--quiet', `${rev}^{commit}`);
  } catch {
    throw new Error(`BENCH_BASELINE_REV=${rev}: not a commit in this repository`);
  }
  const short = sha.slice(0, 7);
  const dir = path.join(ROOT, 'bench/.baseline', short);
  const marker = path.join(dir, '.bench-export');
  const complete = existsSync(marker) && readFileSync(marker, 'utf8').trim() === sha;
  if (!complete) {
    log(`  exporting hooklab ${short} (git archive) to ${path.relative(ROOT, dir)}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await withTimeout(archiveInto(sha, dir), 60_000, `git archive ${short}`);
    if (!existsSync(path.join(dir, 'server/main.ts'))) throw new Error(`hooklab ${short} has no server/main.ts: it cannot be benchmarked this way`);
    await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    await writeFile(marker, sha + '\n');
  }
  // Its node_modules are the main checkout's: say so if it asked for a package (or a version
  // range) the main checkout does not.
  const deps = async (p: string) => {
    const j = JSON.parse(await readFile(p, 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    return { ...j.devDependencies, ...j.dependencies };
  };
  const mine = await deps(path.join(ROOT, 'package.json'));
  const theirs = await deps(path.join(dir, 'package.json'));
  const differ = Object.entries(theirs).filter(([name, range]) => mine[name] !== range).map(([name, range]) => `${name}@${range} (here: ${mine[name] ?? 'none'})`);
  return {
    rev,
    sha,
    short,
    dir,
    depsWarning: differ.length ? `hooklab ${short} declares dependencies the main checkout (whose node_modules it uses) does not: ${differ.join(', ')}` : null,
  };
}

/** `git archive <sha> | tar -x -C dir`, without a shell. */
function archiveInto(sha: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const archive = spawn('git', ['archive', '--format=tar', sha], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const tar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    archive.stdout.pipe(tar.stdin);
    let err = '';
    archive.stderr.on('data', (d) => (err += d));
    tar.stderr!.on('data', (d) => (err += d));
    let pending = 2;
    const done = (what: string) => (code: number | null) => {
      if (code !== 0) return reject(new Error(`${what} exited with ${code}: ${err}`));
      if (--pending === 0) resolve();
    };
    archive.on('error', reject);
    tar.on('error', reject);
    archive.on('exit', done('git archive'));
    tar.on('exit', done('tar'));
  });
}
