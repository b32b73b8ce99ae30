// Bulk replay jobs (POST /api/bins/:id/replay) kept in the store, so GET /api/replays/:id
// answers on every instance (STORE=redis) and after a restart. The instance running a job holds
// it in memory (the truth while it runs: it answers from there) and writes it to the store when
// it starts, then its progress at most every WRITE_EVERY_MS, and when it ends: never a write
// per capture replayed. While it runs, it is written at least every heartbeat (a few seconds)
// even without progress (a target holding its answers), each write carrying the instance and
// when it was made (updatedAt).
//
// A job whose instance died (a crash, a SIGKILL) stays 'running' in the store. Any instance
// reading one not written for `staleMs` (REPLAY_STALE_MS_DEFAULT, 30 s) answers it as failed,
// with REPLAY_STOPPED as its error (it does not write it so: see get). At start-up an instance fails the running
// jobs it left (its INSTANCE_URL; lowdb: every running one, there being one instance) and any
// stale one; a graceful stop fails the ones it still runs. Readers compare the heartbeat with
// their own clock: the instances' clocks must agree to well within staleMs.
//
// Limits: the store keeps every running job and the newest MAX_REPLAY_JOBS ended ones (its
// own rule, per store: across every instance on one Redis). The cap on running jobs
// (MAX_REPLAY_JOBS, 503 too_many_replays) is per instance: it bounds the work one process
// takes on, so `running()` counts this instance's jobs only.
import type { ReplayJob } from '../../shared/api.ts';
import type { Store, StoredReplay } from '../store/types.ts';
import { iso } from '../time.ts';

/** The error of a job whose instance stopped while it ran. */
export const REPLAY_STOPPED = 'the instance running it stopped before it finished';
/** A running job not written for this long lost its instance (REPLAY_STALE_MS). */
export const REPLAY_STALE_MS_DEFAULT = 30_000;
/** Progress is written at most this often (and the heartbeat checked as often). */
const WRITE_EVERY_MS = 250;
/** A running job is written at least this often (or a third of the stale bound, if less). */
const HEARTBEAT_MS = 2000;

export interface ReplayJobsOptions {
  store: Store;
  /** This instance (INSTANCE_URL): written with each job it runs. */
  instance: string;
  /** REPLAY_STALE_MS. */
  staleMs: number;
  /** Wall clock. */
  now: () => number;
  /** A write to the store failed (once per job until one succeeds again); it is retried. */
  onWriteError?: (err: unknown, jobId: string) => void;
}

interface Running {
  /** The job, changed in place as it goes (counts, then its end). */
  job: ReplayJob;
  /** What was last written (or is being written). */
  written: StoredReplay | null;
  /** When the last write started. */
  writtenAt: number;
  /** The write in flight. */
  saving: Promise<void> | null;
  /** The last write failed: the next tick writes again. */
  failing: boolean;
}

/** The job as the API shows it (without the store's bookkeeping). */
function view(r: StoredReplay): ReplayJob {
  const { instance: _instance, updatedAt: _updatedAt, ...job } = r;
  return job;
}

/** A job whose instance is gone, as failed (ended when it was last heard of). */
function stopped(r: StoredReplay): StoredReplay {
  return { ...r, state: 'failed', error: REPLAY_STOPPED, finishedAt: r.updatedAt };
}

export class ReplayJobs {
  /** Jobs this instance runs, and ended ones whose last write has not reached the store yet. */
  private readonly local = new Map<string, Running>();
  /** Writes progress and the heartbeat while `local` holds a job. */
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly heartbeatMs: number;

  constructor(private readonly o: ReplayJobsOptions) {
    this.heartbeatMs = Math.min(HEARTBEAT_MS, Math.floor(o.staleMs / 3));
  }

  /** Jobs running on this instance (the running cap is per instance). */
  running(): number {
    let n = 0;
    for (const e of this.local.values()) if (e.job.state === 'running') n++;
    return n;
  }

  /**
   * Record a new job (resolves once it is in the store: rejects, and runs nothing, when it
   * cannot be written), then run `work` detached. `work` counts what it did on the job
   * (done, failed) and returns when every capture is sent (finished), or throws (failed, with
   * why); it should stop early once the job is no longer running (the instance is stopping).
   */
  async start(job: ReplayJob, work: (job: ReplayJob) => Promise<void>): Promise<void> {
    if (this.closed) throw new Error('stopping');
    const t = this.o.now();
    const first = this.record(job, t);
    const e: Running = { job, written: first, writtenAt: t, saving: null, failing: false };
    // Counted at once: two starts cannot both pass the running cap.
    this.local.set(job.id, e);
    try {
      await this.o.store.replays.put(first);
    } catch (err) {
      this.local.delete(job.id);
      throw err;
    }
    this.arm();
    void this.run(e, work);
  }

  private async run(e: Running, work: (job: ReplayJob) => Promise<void>): Promise<void> {
    const job = e.job;
    let error: string | null = null;
    try {
      await work(job);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    if (job.state !== 'running') return; // failed by close() meanwhile
    job.state = error === null ? 'finished' : 'failed';
    job.error = error;
    job.finishedAt = iso(this.o.now());
    await this.save(e);
  }

  /**
   * A job: from memory when this instance runs it, else from the store; a running one whose
   * instance has not written it for staleMs is answered (and written) as failed.
   */
  async get(id: string): Promise<ReplayJob | undefined> {
    const e = this.local.get(id);
    if (e) return { ...e.job };
    const r = await this.o.store.replays.get(id);
    if (!r) return undefined;
    // Answered as failed, not written so: an instance that was only stalled may still write
    // its job's end, which a reader's write must not overwrite (recover(), at start-up, writes).
    if (r.state === 'running' && this.isStale(r)) return view(stopped(r));
    return view(r);
  }

  /**
   * At start-up: fail the jobs this instance left running (`all`: every running one, for a
   * store only one instance uses) and any whose instance is gone. Answers how many.
   */
  async recover(all: boolean): Promise<number> {
    let n = 0;
    for (const r of await this.o.store.replays.list()) {
      if (r.state !== 'running' || this.local.has(r.id)) continue;
      if (all || r.instance === this.o.instance || this.isStale(r)) {
        await this.o.store.replays.put(stopped(r));
        n++;
      }
    }
    return n;
  }

  /** Stopping: the jobs still running here are failed (written, best effort); no more writes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.disarm();
    const writes: Promise<void>[] = [];
    for (const e of this.local.values()) {
      if (e.job.state === 'running') {
        e.job.state = 'failed';
        e.job.error = REPLAY_STOPPED;
        e.job.finishedAt = iso(this.o.now());
      }
      writes.push(this.save(e, true));
    }
    await Promise.allSettled(writes);
  }

  /** The job as written now: a copy, with this instance and the time (the heartbeat). */
  private record(job: ReplayJob, t: number): StoredReplay {
    return { ...job, instance: this.o.instance, updatedAt: iso(t) };
  }

  private isStale(r: StoredReplay): boolean {
    const at = Date.parse(r.updatedAt);
    return !Number.isFinite(at) || this.o.now() - at > this.o.staleMs;
  }

  /**
   * Write the job as it is now, after the write in flight (so the last one written is the
   * newest). An ended job leaves `local` once written.
   */
  private save(e: Running, closing = false): Promise<void> {
    if (this.closed && !closing) return Promise.resolve();
    if (e.saving) return e.saving.then(() => this.save(e, closing));
    const t = this.o.now();
    const rec = this.record(e.job, t);
    e.written = rec;
    e.writtenAt = t;
    e.saving = this.o.store.replays
      .put(rec)
      .then(
        () => {
          e.failing = false;
          if (rec.state !== 'running' && this.local.get(rec.id) === e) {
            this.local.delete(rec.id);
            if (!this.local.size) this.disarm();
          }
        },
        (err: unknown) => {
          if (!e.failing) this.o.onWriteError?.(err, rec.id);
          e.failing = true;
        },
      )
      .finally(() => {
        e.saving = null;
      });
    return e.saving;
  }

  /** Every WRITE_EVERY_MS: write what progressed, the heartbeat when due, and failed writes again. */
  private tick() {
    const t = this.o.now();
    for (const e of this.local.values()) {
      if (e.saving) continue;
      const w = e.written;
      const changed = !w || w.done !== e.job.done || w.failed !== e.job.failed || w.state !== e.job.state;
      if (changed || e.failing || t - e.writtenAt >= this.heartbeatMs) void this.save(e);
    }
  }

  private arm() {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.tick(), WRITE_EVERY_MS);
    this.timer.unref();
  }

  private disarm() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
