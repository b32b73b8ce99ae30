// Appends in doubt: an append whose MULTI … EXEC went out on the socket but whose answer never
// came (the command timed out while Redis stalled, or the link broke). Redis may still run it
// (a timeout withdraws nothing), or may never have read it. The sender is told 503 +
// Retry-After all the same: hooklab cannot claim the capture was stored, and a sender must
// never lose one it was told nothing about. Should it land after all, its record would say
// what the bin's settings decided (a 200, say), which the sender never saw, and the sender's
// retry would look like a duplicate. So each is remembered here (bounded), and once Redis
// answers again it is looked for; one found gets the answer the sender really got (a 503 from
// hooklab: source 'store'), and whoever asked is told (live viewers, waiters).
//
// Finding it: on Redis the store gives the id (request-scripts.ts), so the append's answer
// was the only place it would have been told. But the id ends in the random tail this
// instance sent with the append, and begins with Redis's clock when it ran: the lookup
// (FIND_APPENDED) scans the bin's ids from the newest down to a floor no later than that, for
// one with the tail and the capture's receivedAt. The floor is Redis's clock at the lookup
// less the time (measured here) since the append was sent, plus a margin: no clock needs to
// agree with another. An answer is final when:
//   - found: always (it is corrected, compare-and-set, so doing it twice changes nothing);
//   - not found, asked on the connection the append went out on: Redis runs one
//     connection's commands in order, so the append ran before the lookup or never will;
//   - not found, on a new connection (the old one broke): asked again a second later, and
//     still not found (what the old socket still held is read by then).
// Nothing on the append's path pays for this: no key per capture, no index.
import type { AnswerOutcome, RequestItem } from '../../../shared/api.ts';
import { StoreUnavailableError } from '../types.ts';

/** An append in doubt, as the log keeps it (no body: it may wait long). */
export interface DoubtfulAppend {
  binId: string;
  /** Its id when the caller gave one; '' when Redis was to assign it. */
  id: string;
  /** The random tail sent for an assigned id (its last characters). */
  tail: string;
  receivedAt: string;
  /** performance.now() when it was handed to the socket. */
  sentAt: number;
  /** The socket it went out on (identity only). */
  stream: unknown;
}

/**
 * The store could not confirm an append: it was sent, and Redis may yet store it (a timeout,
 * a connection lost after it was sent). A StoreUnavailableError (the caller answers 503 as for
 * any fault); `settle` asks the store to look for it once Redis answers again and, should it
 * be there, record `answer` as its answer (what the sender really got). Resolves with the
 * corrected row, or null: not stored (or no longer), or given up on (see InDoubtAppends).
 * Not calling settle leaves it as it lands.
 */
export class AppendInDoubtError extends StoreUnavailableError {
  constructor(
    message: string,
    readonly settle: (answer: AnswerOutcome) => Promise<RequestItem | null>,
  ) {
    super(message);
    this.name = 'AppendInDoubtError';
  }
}

export interface InDoubtDeps {
  /** Runs FIND_APPENDED with these arguments (after the prefix). */
  find(args: (string | number)[]): Promise<unknown>;
  /** Record `answer` on the capture; its row, or null when it is no longer stored. */
  correct(binId: string, id: string, answer: AnswerOutcome): Promise<RequestItem | null>;
  /** The connection is up (a lookup could be sent). */
  ready(): boolean;
  /** The socket commands go out on now (identity only). */
  stream(): unknown;
  /** This instance's position in the capture feed ('' when it does not follow it). */
  feedPosition(): string;
  warn(message: string, detail?: Record<string, unknown>): void;
}

/** Appends in doubt remembered at most: past it the oldest is given up (logged). */
export const MAX_IN_DOUBT = 4096;
/** Given up on after this long without Redis answering a lookup (logged). */
const MAX_AGE_MS = 60 * 60_000;
/** Lookups per script run, and ids each looks at per run (a long way down continues next run). */
const PER_RUN = 32;
const SCAN_PER_RUN = 512;
/** Slack in the floor: a lookup answered later than this after it was sent is asked again. */
const MARGIN_MS = 2000;
/** After a reconnect, "not found" is final once it holds this long (see the top). */
const SETTLE_MS = 1000;
const RETRY_MS = 250;
/** A correction waits (at most this) for the feed to have handed the capture's row on here. */
const FEED_WAIT_MS = 3000;
/** Lines about giving up, at most one per this long (with counts). */
const WARN_EVERY_MS = 10_000;

interface Doubt extends DoubtfulAppend {
  answer: AnswerOutcome;
  addedAt: number;
  /** Where the scan goes on ('': from the newest). */
  cursor: string;
  /** First found missing on another connection than the append's (see the top). */
  missingAt: number | null;
  resolve: (item: RequestItem | null) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/** Stream ids 'ms-seq': a < b. */
function streamIdLess(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am < bm || (am === bm && as < bs);
}

export class InDoubtAppends {
  private readonly list: Doubt[] = [];
  private loop: Promise<void> | null = null;
  private closed = false;
  private dropped = 0;
  private expired = 0;
  private warnedAt = -Infinity;

  constructor(private readonly d: InDoubtDeps) {}

  get size(): number {
    return this.list.length;
  }

  /** Look for `a` once Redis answers; if it is stored, record `answer` on it. */
  track(a: DoubtfulAppend, answer: AnswerOutcome): Promise<RequestItem | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.list.push({ ...a, answer, addedAt: performance.now(), cursor: '', missingAt: null, resolve });
      if (this.list.length > MAX_IN_DOUBT) {
        this.list.shift()!.resolve(null);
        this.dropped++;
        this.warnLater();
      }
      this.loop ??= this.run().finally(() => (this.loop = null));
    });
  }

  /** Stop looking (the store closes): what is left is settled with nothing. */
  close(): void {
    this.closed = true;
    for (const x of this.list.splice(0)) x.resolve(null);
  }

  private warnLater(force = false) {
    const now = performance.now();
    if (!force && now - this.warnedAt < WARN_EVERY_MS) return;
    if (!this.dropped && !this.expired) return;
    this.warnedAt = now;
    this.d.warn(
      'captures Redis did not confirm in time were not all looked for: should one have been stored after all, its record shows the answer its settings decided, not the 503 its sender got',
      { overflowed: this.dropped, gaveUp: this.expired, remembered: MAX_IN_DOUBT },
    );
    this.dropped = 0;
    this.expired = 0;
  }

  private async run(): Promise<void> {
    while (this.list.length && !this.closed) {
      const now = performance.now();
      while (this.list.length && now - this.list[0].addedAt > MAX_AGE_MS) {
        this.list.shift()!.resolve(null);
        this.expired++;
      }
      this.warnLater();
      if (!this.list.length) break;
      if (!this.d.ready()) {
        await sleep(RETRY_MS);
        continue;
      }
      const round = this.list.slice(0, PER_RUN);
      const stream = this.d.stream();
      const askedAt = performance.now();
      const args: (string | number)[] = [SCAN_PER_RUN];
      for (const x of round) args.push(x.binId, x.id, x.tail, Math.ceil(askedAt - x.sentAt + MARGIN_MS), JSON.stringify(x.receivedAt), x.cursor);
      let res: unknown[];
      try {
        res = (await this.d.find(args)) as unknown[];
      } catch {
        // Redis does not answer yet (the lookup timed out, the link is down): again shortly.
        await sleep(RETRY_MS);
        continue;
      }
      if (this.closed) return;
      const answeredAt = performance.now();
      // Answered within the margin: the floor was early enough (see the top).
      const prompt = answeredAt - askedAt <= MARGIN_MS;
      const top = String(res[round.length] ?? '');
      const found: [Doubt, string][] = [];
      let waiting = false;
      for (const [i, x] of round.entries()) {
        const [kind, at] = res[i] as [number, string?];
        if (kind === 1) found.push([x, String(at)]);
        else if (kind === 2) x.cursor = String(at);
        else if (!prompt) {
          x.cursor = '';
          waiting = true;
        } else if (x.stream === stream || (x.missingAt !== null && answeredAt - x.missingAt >= SETTLE_MS)) {
          this.settle(x, null);
        } else {
          x.missingAt ??= answeredAt;
          x.cursor = '';
          waiting = true;
        }
      }
      if (found.length && !(await this.correct(found, top))) waiting = true;
      if (waiting) await sleep(RETRY_MS);
    }
  }

  /** Correct what was found; false when some could not be (tried again next round). */
  private async correct(found: [Doubt, string][], top: string): Promise<boolean> {
    const done: [Doubt, RequestItem | null][] = [];
    for (const [x, id] of found) {
      try {
        done.push([x, await this.d.correct(x.binId, id, x.answer)]);
      } catch {
        // (Redis went away again, or refuses writes: found again next round, corrected then.)
      }
    }
    const stored = done.filter(([, item]) => item !== null);
    if (stored.length) {
      // Live viewers got the capture's row from the capture feed, as it landed: the
      // correction goes out after it (an update of a row they do not have yet is lost).
      const deadline = performance.now() + FEED_WAIT_MS;
      while (top && this.d.feedPosition() && streamIdLess(this.d.feedPosition(), top) && performance.now() < deadline && !this.closed) await sleep(20);
      // (Capture ids only: a bin's id is its receiver URL's secret.)
      this.d.warn('captures Redis did not confirm in time were stored after all: recorded as answered 503, as their senders were told (they retry: each retry is a capture of its own)', {
        count: stored.length,
        ids: stored.slice(0, 10).map(([, item]) => item!.id),
      });
    }
    for (const [x, item] of done) this.settle(x, item);
    return done.length === found.length;
  }

  private settle(x: Doubt, item: RequestItem | null) {
    const i = this.list.indexOf(x);
    if (i >= 0) this.list.splice(i, 1);
    x.resolve(item);
  }
}
