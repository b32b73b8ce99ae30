// A worker thread that takes calls in batches, one message per event-loop turn each way (on
// this VM a message that wakes another thread costs 40-120 µs, so one per call would eat what
// the thread saves). If the thread dies, the calls it had in hand are answered by `lost` and a
// new thread starts, with growing delays while it keeps dying at start (reported by fault()).
import { type Transferable, Worker } from 'node:worker_threads';

export interface WorkerFault {
  code: string;
  message: string;
  since: string;
}

export interface BatchedWorkerOptions<Init, Req, Res> {
  /** The worker module; from source (.ts) it is started through tsx. */
  url: URL;
  /** For messages: "the forwarding thread". */
  name: string;
  /** The fault code health shows while the thread is down. */
  faultCode: string;
  /** Each thread's start data (a new one per start: a port transferred to a dead thread is gone). */
  init: () => { workerData: Init; transferList?: Transferable[] };
  /** The answer for a call whose thread died (the caller retries or records it). */
  lost: (req: Req) => Res;
  /** Told once per crash (the server logs it). */
  onCrash?: (message: string) => void;
  /** Restart delays after a crash: doubling from min to max; reset once a thread lived stableMs. */
  restartMinMs?: number;
  restartMaxMs?: number;
  stableMs?: number;
  /** Starts a thread (tests start one that fails). */
  spawn?: (url: URL, workerData: Init, transferList: Transferable[]) => Worker;
}

/** What travels to the thread: `{ type: 'calls', batch }`, or a control message of the caller's. */
export interface CallBatch<Req> {
  type: 'calls';
  batch: { id: number; req: Req }[];
}

/** What comes back: answers, by call id. */
export type AnswerBatch<Res> = { id: number; res: Res }[];

// From source (tsx) a worker does not inherit the main thread's TypeScript loader: the thread
// starts from a bootstrap that registers tsx first, then imports the .ts worker.
function spawnWorker(url: URL, workerData: unknown, transferList: Transferable[]): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData, transferList });
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(code, { eval: true, workerData, transferList });
}

export class BatchedWorker<Init, Req, Res> {
  private readonly waiting = new Map<number, { req: Req; resolve: (r: Res) => void }>();
  private nextId = 0;
  private outbox: { id: number; req: Req }[] = [];
  private flushScheduled = false;
  private closed = false;
  private delay: number;
  private crash: WorkerFault | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private worker: Worker | null;

  constructor(private readonly o: BatchedWorkerOptions<Init, Req, Res>) {
    this.delay = o.restartMinMs ?? 100;
    this.worker = this.start();
  }

  call(req: Req): Promise<Res> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.waiting.set(id, { req, resolve });
      this.outbox.push({ id, req });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  /** Why the thread is not running right now (for health), or null while it is. */
  fault(): WorkerFault | null {
    return this.crash;
  }

  close(): void {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.outbox = [];
    for (const [id, w] of this.waiting) {
      w.resolve(this.o.lost(w.req));
      this.waiting.delete(id);
    }
    void this.worker?.terminate();
    this.worker = null;
  }

  private readonly flush = () => {
    this.flushScheduled = false;
    if (!this.worker || this.outbox.length === 0) return; // held until a thread runs again
    const batch = this.outbox;
    this.outbox = [];
    this.worker.postMessage({ type: 'calls', batch } satisfies CallBatch<Req>);
  };

  private start(): Worker {
    const o = this.o;
    const startedAt = Date.now();
    let lastError = 'exited';
    const init = o.init();
    const w = (o.spawn ?? spawnWorker)(o.url, init.workerData, init.transferList ?? []);
    w.on('message', (batch: AnswerBatch<Res>) => {
      for (const { id, res } of batch) {
        this.waiting.get(id)?.resolve(res);
        this.waiting.delete(id);
      }
    });
    w.on('error', (err) => {
      lastError = err instanceof Error ? err.message : String(err); // followed by 'exit'
    });
    w.on('exit', (code) => {
      this.worker = null;
      if (this.closed) return;
      // Whatever it had in hand is lost: answer those calls as failed.
      for (const [id, c] of this.waiting) {
        if (this.outbox.some((x) => x.id === id)) continue; // not sent yet: goes to the next thread
        c.resolve(o.lost(c.req));
        this.waiting.delete(id);
      }
      // A thread that crashes at start would otherwise restart in a hot loop: back off, and
      // say so in health until one runs again.
      this.delay = Date.now() - startedAt >= (o.stableMs ?? 10_000) ? (o.restartMinMs ?? 100) : Math.min(o.restartMaxMs ?? 30_000, this.delay * 2);
      const message = `${o.name} stopped (exit code ${code}: ${lastError}); restarting in ${this.delay} ms`;
      this.crash = { code: o.faultCode, message, since: this.crash?.since ?? new Date().toISOString() };
      o.onCrash?.(message);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        this.worker = this.start();
        this.flush();
      }, this.delay);
      this.restartTimer.unref();
    });
    // 'online' comes before the worker's module has loaded (a broken import fails after it):
    // a thread counts as running again once it has lived a moment.
    const alive = setTimeout(() => {
      if (this.worker === w) this.crash = null;
    }, Math.min(o.stableMs ?? 10_000, 1000));
    alive.unref();
    w.on('exit', () => clearTimeout(alive));
    w.unref();
    return w;
  }
}
