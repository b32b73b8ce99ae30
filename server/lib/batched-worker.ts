// A worker thread that takes calls in batches (on this VM a message that wakes another thread
// costs 40-120 µs of CPU, so one per call would eat what the thread saves: measured, a batch of
// 20 costs ~9 µs per call, one alone ~145). A batch leaves at the end of the event-loop turn;
// with `batchDelayMs`, while the thread has calls in hand, new ones wait up to that long (or
// `batchMax` calls) to fill a bigger batch: for work where a few ms do not matter (background
// forwards), not where each answer holds up the next (the dispatcher). If the thread dies, the calls it had in hand are answered by `lost` and a
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
  /** How long calls may wait to fill a batch while the thread has some in hand (see above); 0: none. */
  batchDelayMs?: number;
  /** A batch leaves at once when it holds this many calls (default BATCH_MAX). */
  batchMax?: number;
  /** Told once per crash (the server logs it). */
  onCrash?: (message: string) => void;
  /** Restart delays after a crash: doubling from min to max; reset once a thread lived stableMs. */
  restartMinMs?: number;
  restartMaxMs?: number;
  stableMs?: number;
  /** Starts a thread (tests start one that fails). */
  spawn?: (url: URL, workerData: Init, transferList: Transferable[]) => Worker;
}

export const BATCH_MAX = 64;

/**
 * Collects items and sends them as one batch: at once past `max`, at the end of the turn
 * when `idle()` says nobody is waiting for the other side (or delayMs is 0), else after delayMs.
 */
export class Batcher<T> {
  private items: T[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** The timer is the delay (not the end of the turn). */
  private waits = false;

  constructor(
    private readonly send: (batch: T[]) => void,
    private readonly idle: () => boolean,
    private readonly delayMs: number,
    private readonly max = BATCH_MAX,
  ) {}

  get size() {
    return this.items.length;
  }

  /** `soon`: someone waits for this one (a proxied sender): the batch goes at the end of the turn. */
  add(item: T, soon = false): void {
    this.items.push(item);
    if (this.items.length >= this.max) return this.flush();
    if (this.timer && !(soon && this.waits)) return;
    if (this.timer) clearTimeout(this.timer as NodeJS.Timeout);
    this.waits = this.delayMs > 0 && !soon && !this.idle();
    this.timer = this.waits ? setTimeout(this.flush, this.delayMs) : setImmediate(this.flush);
  }

  readonly flush = () => {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = null;
    }
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    this.send(batch);
  };

  /** Take the items not sent yet (they go elsewhere). */
  drop(): T[] {
    const left = this.items;
    this.items = [];
    return left;
  }
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
  /** Calls not answered yet; `sent`: in a thread's hands (lost if it dies). */
  private readonly waiting = new Map<number, { req: Req; resolve: (r: Res) => void; sent: boolean }>();
  private nextId = 0;
  /** Calls made while no thread runs, sent when one does. */
  private held: { id: number; req: Req }[] = [];
  private readonly outbox: Batcher<{ id: number; req: Req }>;
  private closed = false;
  private delay: number;
  private crash: WorkerFault | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private worker: Worker | null;

  constructor(private readonly o: BatchedWorkerOptions<Init, Req, Res>) {
    this.outbox = new Batcher(
      (batch) => this.post(batch),
      () => this.waiting.size === this.outbox.size, // none at the thread
      o.batchDelayMs ?? 0,
      o.batchMax,
    );
    this.delay = o.restartMinMs ?? 100;
    this.worker = this.start();
  }

  /** `soon`: someone waits for the answer (see Batcher.add). */
  call(req: Req, soon = false): Promise<Res> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      // In the map before the batcher asks whether the thread has calls in hand.
      this.waiting.set(id, { req, resolve, sent: false });
      this.outbox.add({ id, req }, soon);
    });
  }

  /** A message of the caller's, before any call made after it (dropped while no thread runs: init() has it then). */
  control(message: unknown): void {
    this.outbox.flush(); // calls made before it go first
    this.worker?.postMessage(message);
  }

  /** Why the thread is not running right now (for health), or null while it is. */
  fault(): WorkerFault | null {
    return this.crash;
  }

  close(): void {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.outbox.drop();
    this.held = [];
    for (const [id, w] of this.waiting) {
      w.resolve(this.o.lost(w.req));
      this.waiting.delete(id);
    }
    void this.worker?.terminate();
    this.worker = null;
  }

  private post(batch: { id: number; req: Req }[]) {
    if (!this.worker) {
      this.held.push(...batch); // until a thread runs again
      return;
    }
    for (const { id } of batch) {
      const w = this.waiting.get(id);
      if (w) w.sent = true;
    }
    this.worker.postMessage({ type: 'calls', batch } satisfies CallBatch<Req>);
  }

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
      // Whatever it had in hand is lost: answer those calls as failed (the rest go to the next).
      for (const [id, c] of this.waiting) {
        if (!c.sent) continue;
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
        const held = this.held;
        this.held = [];
        if (held.length) this.post(held);
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
