// hooklab forward <bin URL> --to http://localhost:3000/hooks: a relay for a laptop the server
// cannot reach. It follows the bin over Socket.IO and sends every capture to the local
// targets, byte-exact (server/forward/request.ts). It never loses an event silently: the last
// id it forwarded is kept in a cursor file; after a disconnect, a sleep or a restart it first
// replays what it missed, in order, and says how many; a target that cannot be reached is
// retried (the cursor does not move past an event until every target has had it), and so is
// the hooklab server itself when it drops away (a restart, a network outage) or is not up yet
// when the relay starts: the relay waits for it and goes on from its cursor. Only what retrying cannot fix ends it: a refused token, a
// deleted bin.
//
// One relay per cursor file (a lock beside it), and a cursor file names its bin (id, server,
// when the bin was made): one of another bin is refused, one of a bin deleted and made again
// since is said and the relay goes on with the new bin (see cursor.ts).
import { type Bin, RECEIVER_PREFIX, type RequestItem, type SubscribeAck } from '../../../shared/api.ts';
import { FRAGMENT_REASON, hasFragment, targetKey } from '../../../shared/forward-target.ts';
import { WITH_CREDENTIALS, hasCredentials } from '../../../shared/url-credentials.ts';
import type { z } from 'zod';
import type { ExportLine } from '../../../shared/schema/exchange.ts';
import { type ForwardResult, destination, forwardRequest } from '../../forward/request.ts';
import { type Conn, CliError, EXIT, binIdOf, call, unreachable } from '../client.ts';
import { type Cursor, cursorPath, loadCursor, lockCursor, saveCursor } from '../cursor.ts';
import { clockTime } from '../clock-time.ts';
import { durationMs } from '../duration.ts';
import { openLiveSocket } from '../live-socket.ts';
import { withoutUserInfo } from '../server-url.ts';
import { stopCause } from '../stdout-closed.ts';
import { isThisMachine } from '../this-machine.ts';

export interface ForwardOptions {
  to: string[];
  cursor?: string;
  fromStart?: boolean;
  once?: boolean;
  timeout: string;
  /** How long the server may stay unreachable before the relay ends (default: 60s with --once, else never). */
  giveUp?: string;
  /** One JSON object per forwarded capture on stdout instead of the line (messages stay on stderr). */
  json?: boolean;
  /** Captures fetched in one call (see FETCH_AHEAD_BYTES); default 32. */
  prefetch?: string;
}

const ms = (s: string, flag = '--timeout') => durationMs(s, flag, '10s, 500ms or 5m');

/** --once gives up on a server that stays unreachable this long (a CI step must not hang for hours). */
const ONCE_GIVE_UP_MS = 60_000;
/** --once gives up on a target that still cannot be reached after this many tries (waits 0.5+1+2+4 s between them). */
const ONCE_TARGET_TRIES = 5;
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * The relay's calls to the server (the bin, each capture) end after this long as unreachable,
 * and are tried again: a connection that died without a word (a Wi-Fi roam, a NAT that forgot
 * it) would otherwise hold one for undici's 300 s.
 */
export const API_TIMEOUT_MS = 30_000;
/**
 * Captures are fetched in batches (--prefetch, this many by default): the one at hand and those
 * queued after it, their bodies at most FETCH_AHEAD_BYTES together (the first one whatever its
 * size). A call per capture made the server's round trip most of a relay's time once the server
 * was far away. What the relay holds in memory at once is one such batch.
 */
const PREFETCH_DEFAULT = 32;
const PREFETCH_MAX = 1000;
/**
 * The ids of one call, joined, at most this long (about 200 of today's 19-character ids): the
 * request line counts against the server's MAX_HEADER_BYTES, and a proxy's own limit (nginx's
 * is 8 KB). One that still answers 414 or 431 halves the batch (see fetchAhead).
 */
const IDS_MAX_CHARS = 4096;
const FETCH_AHEAD_BYTES = 8 * 1024 * 1024;
/** A Retry-After of the server is waited out up to this long before the next try. */
const MAX_RETRY_AFTER_MS = 60_000;

/** One server, however its URL is written (a trailing slash, the case of its host). */
const sameServer = (a: string, b: string) => {
  try {
    return new URL(a).href.replace(/\/+$/, '') === new URL(b).href.replace(/\/+$/, '');
  } catch {
    return a === b;
  }
};

/** What a target made of a capture: its answer, or why it got none (`gone`: the relay's own, see sendOne). */
type Outcome = Pick<ForwardResult, 'url' | 'status' | 'durationMs' | 'errorDetail'> & { error: ForwardResult['error'] | 'gone' };

/** The outcome at every target of a capture none of them was sent: each named by the URL it would have gone to. */
function notSent(targets: readonly string[], r: RequestItem, error: Outcome['error'], errorDetail: string): Outcome[] {
  return targets.map((target) => {
    let url = target;
    try {
      url = destination(target, r).href;
    } catch {
      // A sub-path no target may take: the bare target names it.
    }
    return { url, status: null, durationMs: 0, error, errorDetail };
  });
}

/**
 * The method as it goes out: forwardRequest sends it in upper case (a capture imported with
 * "GeT" goes as GET), and the line says what the target got.
 */
const sentMethod = (r: RequestItem) => r.method.toUpperCase();

/** --json: the capture and what each target made of it (status, or the error and why; the time); `trailersNotSent` when it had chunked trailers. */
function jsonLine(r: RequestItem, results: Outcome[], trailers = 0): string {
  return JSON.stringify({
    id: r.id,
    receivedAt: r.receivedAt,
    method: sentMethod(r),
    path: r.path,
    queryString: r.queryString,
    ...(trailers ? { trailersNotSent: trailers } : {}),
    targets: results.map((x) => ({ url: x.url, status: x.status, durationMs: x.durationMs, ...(x.error ? { error: x.error, errorDetail: x.errorDetail } : {}) })),
  });
}

function line(r: RequestItem, results: Outcome[], trailers = 0): string {
  const what = `${clockTime(r.receivedAt)}  ${sentMethod(r)} ${r.path}${r.queryString ? `?${r.queryString}` : ''}`;
  const outcomes = results.map((x) => `→ ${x.status ?? x.error} (${x.durationMs} ms) ${x.url}`);
  // Said, as the server's forward records say it: a check of a signature in a trailer fails.
  const note = trailers ? [`(${plural(trailers, 'trailer')} not sent: the relay cannot send trailers)`] : [];
  return [what, ...outcomes, ...note].join('  ');
}

/**
 * Where --to cannot point: the same server's receiver URLs (a capture would come back as a new
 * one, forever). Every name of this machine (localhost, 0.0.0.0, [::], [::ffff:7f00:1], its LAN
 * address…) is one host here: the bin's server on localhost is also at 0.0.0.0 of its port.
 */
const portOf = (u: URL) => u.port || (u.protocol === 'https:' ? '443' : '80');
const hostOf = (u: URL) => (isThisMachine(u.hostname) ? 'this machine' : u.hostname.toLowerCase().replace(/\.+$/, ''));

function receiverOf(target: string, servers: string[]): string | null {
  const t = new URL(target);
  for (const s of servers) {
    const u = new URL(s);
    if (t.protocol !== u.protocol || hostOf(t) !== hostOf(u) || portOf(t) !== portOf(u)) continue;
    // The server may live under a path (PUBLIC_URL https://example.com/hooklab).
    if (t.pathname.startsWith(u.pathname.replace(/\/+$/, '') + RECEIVER_PREFIX)) return u.origin;
  }
  return null;
}

/** The server's own failures (unreachable, 5xx, 429) pass; retries start this fast and back off to the cap. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export async function forward(c: Conn, bin: string, o: ForwardOptions): Promise<void> {
  if (!o.to?.length) throw new CliError('give at least one --to URL (where to send the captures)', EXIT.usage);
  // As the server's forward settings: two names for one place (a trailing "/", a fragment,
  // which is never sent) would get every capture twice.
  const seen = new Map<string, string>();
  for (const t of o.to) {
    // Before anything that echoes the URL. The relay never sent them (a target behind Basic
    // auth answered 401, counted as delivered) and printed the password on every line.
    if (hasCredentials(t)) throw new CliError(`--to ${withoutUserInfo(t)} ${WITH_CREDENTIALS}: the relay does not send them (a target behind Basic auth would answer 401); give the target a URL without them`, EXIT.usage);
    if (!URL.canParse(t) || !/^https?:$/.test(new URL(t).protocol)) throw new CliError(`--to must be an http(s) URL, got "${t}"`, EXIT.usage);
    if (hasFragment(t)) throw new CliError(`--to ${t} ${FRAGMENT_REASON}`, EXIT.usage);
    const same = seen.get(targetKey(t));
    if (same !== undefined) throw new CliError(`--to ${t} is the same target as --to ${same}: it would get every capture twice`, EXIT.usage);
    seen.set(targetKey(t), t);
  }
  const binId = binIdOf(bin);
  // The bin's server: --server (or the origin the receiver URL gave it), and the receiver
  // URL's own, with the path it is under.
  const servers = [c.server];
  if (/^https?:\/\//i.test(bin) && URL.canParse(bin)) {
    const u = new URL(bin);
    const at = u.pathname.indexOf(RECEIVER_PREFIX);
    servers.push(u.origin + (at > 0 ? u.pathname.slice(0, at) : ''));
  }
  for (const t of o.to) {
    const origin = receiverOf(t, servers);
    if (origin) throw new CliError(`--to ${t} is a receiver URL of the hooklab server the relay reads (${origin}): every forward would be captured and forwarded again, in a loop. Point --to at your app.`, EXIT.usage);
  }
  const timeoutMs = ms(o.timeout);
  // 0 (or under half a ms) timed out every send after it had gone out: the target got each
  // capture again and again.
  if (timeoutMs < 1) throw new CliError(`--timeout must be more than 0, got "${o.timeout}"`, EXIT.usage);
  // Past Node's timer limit a timer fires at once: the same as 0.
  if (timeoutMs > MAX_TIMER_MS) throw new CliError(`--timeout must be at most 24 days (35791m), got "${o.timeout}"`, EXIT.usage);
  const prefetch = o.prefetch === undefined ? PREFETCH_DEFAULT : Number(o.prefetch);
  if (!/^\d+$/.test(o.prefetch ?? '1') || prefetch < 1 || prefetch > PREFETCH_MAX) throw new CliError(`--prefetch must be a whole number from 1 to ${PREFETCH_MAX}, got "${o.prefetch}"`, EXIT.usage);
  // A relay that runs for good waits for its server however long it is away; --once (a CI
  // step) ends with exit 3 instead, saying where it stopped, so the step fails rather than hangs.
  const giveUpMs = o.giveUp !== undefined ? ms(o.giveUp, '--give-up') : o.once ? ONCE_GIVE_UP_MS : Infinity;
  // Node's timers hold at most 2^31-1 ms (~24.8 days): a longer one would fire at once.
  if (Number.isFinite(giveUpMs) && giveUpMs > MAX_TIMER_MS) throw new CliError(`--give-up must be at most 24 days (35791m), got "${o.giveUp}"`, EXIT.usage);
  const cursorFile = o.cursor ?? `.hooklab-forward-${binId}.json`;
  // One relay per cursor file: a second one would send each capture again, out of order. Taken
  // before anything is said, so an unwritable place for the cursor is told at once too.
  // Through a symlink: its target, so a relay given the link and one given the file share a lock.
  const cursorReal = await cursorPath(cursorFile);
  const release = await lockCursor(cursorReal, cursorFile);
  try {
    return await relay(c, binId, o, { cursorFile, cursorReal, timeoutMs, giveUpMs, prefetch });
  } finally {
    await release();
  }
}

/**
 * Why a call to the server failed, for the line that says the relay waits: a 429 is no server
 * away but a refusal (this address locked out after wrong tokens), said as such with its wait.
 */
function downWhy(c: Conn, err: CliError): string {
  if (err.status !== 429) return `server unreachable: ${err.message}`;
  const wait = err.retryAfterMs !== undefined ? ` (it says to wait ${Math.ceil(err.retryAfterMs / 1000)} s)` : '';
  if (err.apiCode === 'rate_limited') return `hooklab at ${c.server} refused: too many failed sign-ins from this address${wait}`;
  return `${err.message}: this address is rate-limited${wait}`;
}

/** The line that ends a relay whose server stayed unreachable past giveUpMs (the user's --give-up, or --once's own). */
const gaveUp = (c: Conn, o: ForwardOptions, giveUpMs: number) =>
  `hooklab at ${c.server} could not be reached (or kept failing) for ${giveUpMs / 1000} s: gave up (${o.giveUp !== undefined ? '--give-up' : `--once waits ${giveUpMs / 1000} s unless --give-up says otherwise`})`;

/**
 * The bin, asked for until the server answers, as the relay's calls are during a run: a relay
 * started before the network, the VPN or the server is up waits for it (said once), and --once
 * ends after giveUpMs. A refused token or an unknown bin ends it at once. Null when stopped
 * (Ctrl-C, SIGTERM) while waiting.
 */
async function firstBin(c: Conn, binId: string, o: ForwardOptions, giveUpMs: number): Promise<Bin | null> {
  const since = Date.now();
  let stopped = false;
  let wakeUp = () => {};
  const onSignal = (sig: string) => {
    stopped = true;
    process.stderr.write(`${stopCause(sig)}: stopping (the server never answered; nothing was forwarded)\n`);
    wakeUp();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  let said = false;
  try {
    for (let wait = RETRY_FIRST_MS; ; wait = Math.min(RETRY_MAX_MS, wait * 2)) {
      try {
        const bin = (await (await call(c, 'GET', `/api/bins/${binId}`, { timeoutMs: API_TIMEOUT_MS })).json()) as Bin;
        if (said) process.stderr.write(`hooklab at ${c.server} answers; starting\n`);
        return stopped ? null : bin;
      } catch (e) {
        if (e instanceof CliError && e.status === 404) throw new CliError(`there is no bin ${binId} on ${c.server}: check the bin's id or receiver URL (\`hooklab bin new\` makes a bin)`, EXIT.usage);
        const err = e instanceof CliError ? e : unreachable(c, e, { timeoutMs: API_TIMEOUT_MS });
        if (!err.transient) throw err;
        if (stopped) return null;
        const left = giveUpMs - (Date.now() - since);
        if (left <= 0) throw new CliError(`${gaveUp(c, o, giveUpMs)} (${err.message}); nothing was forwarded`, EXIT.server);
        if (!said) {
          const until = Number.isFinite(giveUpMs) ? `for up to ${giveUpMs / 1000} s` : 'until it answers';
          process.stderr.write(`${downWhy(c, err)}; retrying ${until}\n`);
          said = true;
        }
        // A busy server's Retry-After (429, 503) is waited out, not tried into.
        const pause = Math.min(left, Math.max(wait, Math.min(MAX_RETRY_AFTER_MS, err.retryAfterMs ?? 0)));
        await new Promise<void>((res) => {
          const t = setTimeout(res, pause);
          wakeUp = () => (clearTimeout(t), res());
        });
        if (stopped) return null;
      }
    }
  } finally {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
  }
}

async function relay(c: Conn, binId: string, o: ForwardOptions, k: { cursorFile: string; cursorReal: string; timeoutMs: number; giveUpMs: number; prefetch: number }): Promise<void> {
  const { cursorFile, cursorReal, timeoutMs, giveUpMs, prefetch } = k;
  const stored = await loadCursor(cursorReal, cursorFile);
  // Fail early, with one line, on a wrong token or an unknown bin; and learn which bin it is.
  const bin = await firstBin(c, binId, o, giveUpMs);
  if (!bin) return; // stopped (Ctrl-C) while waiting for the server
  const startOver = `give this bin a cursor file of its own (--cursor), or delete ${cursorFile} to start over`;
  // A cursor file of another bin would skip that bin's older captures (ids sort by time across
  // bins), for good and without a word.
  if (stored?.binId && stored.binId !== binId) {
    throw new CliError(`the cursor file ${cursorFile} is of bin ${stored.binId}${stored.server ? ` on ${stored.server}` : ''}, not of bin ${binId}: ${startOver}`, EXIT.usage);
  }
  // The same id, made at another time: another server's bin of that id, or this one deleted
  // and made again since the cursor was written.
  let recreated = false;
  if (stored?.binCreatedAt && bin.createdAt && stored.binCreatedAt !== bin.createdAt) {
    if (stored.server && !sameServer(stored.server, c.server)) {
      throw new CliError(`the cursor file ${cursorFile} is of bin ${binId} on ${stored.server}, not of the bin of that id on ${c.server}: ${startOver}`, EXIT.usage);
    }
    recreated = true;
    process.stderr.write(
      `bin ${binId} was deleted and made again since the cursor file ${cursorFile} was written (made ${stored.binCreatedAt}, now ${bin.createdAt}): ` +
        `the old bin's captures after the cursor (the last forwarded: ${stored.lastId === '0' ? 'none' : stored.lastId}) went with it, how many is unknown; going on with the new bin from its first capture\n`,
    );
  } else if (stored?.lastId && stored.server && !stored.binCreatedAt && !sameServer(stored.server, c.server)) {
    throw new CliError(`the cursor file ${cursorFile} is of bin ${binId} on ${stored.server}, not on ${c.server}: ${startOver}`, EXIT.usage);
  }
  // Where the stored cursor stands, if it is this bin's.
  const storedLast = recreated ? null : (stored?.lastId ?? null);
  // --from-start applies to a first run only. With a cursor file the relay goes on from it, as
  // it does without the flag: starting over would send your app again what it already had.
  if (o.fromStart && storedLast) {
    process.stderr.write(`--from-start: resuming from the cursor file ${cursorFile} instead (last forwarded: ${storedLast === '0' ? 'none yet' : storedLast}); to start over, delete that file\n`);
  }
  // A first run with --from-start, or a bin made again: from before the bin's first capture
  // (arrival number 0, so the answer says how many older ones are gone already).
  const fromStart = recreated || (!storedLast && o.fromStart === true);
  let cursor: Cursor = storedLast && stored ? { lastId: stored.lastId, lastSeq: stored.lastSeq ?? null } : fromStart ? { lastId: '0', lastSeq: 0 } : { lastId: null };
  // What the cursor file says of the bin, written with each position; the bin read again on
  // each reconnect (see subscribe), as it may have been deleted and made again meanwhile.
  let binCreatedAt: string | undefined = bin.createdAt;

  // The captures being fetched: ended (and asked again at once) when the live link reconnects,
  // as its connection may be one that died without a word.
  let inflight: AbortController | null = null;
  /** Each asked-for id's capture, or null when the bin no longer holds it (one export answer). */
  const fetchCaptures = async (ids: string[]): Promise<Map<string, z.infer<typeof ExportLine> | null>> => {
    const ctl = new AbortController();
    inflight = ctl;
    const init = { timeoutMs: API_TIMEOUT_MS, signal: ctl.signal };
    try {
      const res = await call(c, 'GET', `/api/bins/${binId}/export?ids=${ids.join(',')}`, init);
      let text: string;
      try {
        text = await res.text();
      } catch (e) {
        // The connection dropped (or went silent) mid-answer: as unreachable.
        throw unreachable(c, e, init);
      }
      const got = new Map<string, z.infer<typeof ExportLine> | null>(ids.map((id) => [id, null]));
      for (const l of text.split('\n')) {
        if (!l.trim()) continue;
        const line = JSON.parse(l) as z.infer<typeof ExportLine>;
        if (got.has(line.id)) got.set(line.id, line);
      }
      return got;
    } finally {
      if (inflight === ctl) inflight = null;
    }
  };

  return new Promise((resolve, reject) => {
    const say = (s: string) => process.stderr.write(`${s}\n`);
    const queue: RequestItem[] = [];
    // Captures fetched ahead, in one call for the capture at hand and those queued after it
    // (see fetchAhead): one round trip per batch rather than per capture, which over a
    // distant server's latency was most of a relay's time. Emptied with the queue.
    const fetched = new Map<string, z.infer<typeof ExportLine> | null>();
    // Held captures (queued, fetched or at hand) deleted on the server since (requests:deleted):
    // not forwarded even if fetched already, as one gone before its fetch is not. Emptied with the queue.
    const deleted = new Set<string>();
    let atHand: string | null = null;
    // Ids in one call: --prefetch, halved for good by each 414 or 431 a batch's URL got.
    let batchMax = prefetch;
    let working = false;
    let caughtUp = false;
    // --once: the newest capture the relay knew of when it first caught up (the bin's newest
    // then, or the last queued by then). It ends past it: a bin that keeps getting captures
    // would otherwise keep a CI step running for good. Those after it wait for the next run.
    let onceUntil: string | null = null;
    let stopped = false;

    // Waits that end early: all of them when the relay stops, the server's when it is back.
    // 'busy': the server's own Retry-After, which the live link coming back does not cut short.
    const naps = new Set<{ kind: 'server' | 'target' | 'busy'; end: () => void }>();
    const nap = (msToWait: number, kind: 'server' | 'target' | 'busy') =>
      new Promise<void>((res) => {
        const n = { kind, end: () => (clearTimeout(t), naps.delete(n), res()) };
        const t = setTimeout(n.end, msToWait);
        naps.add(n);
      });
    const wake = (kind?: 'server' | 'target') => {
      for (const n of [...naps]) if (!kind || n.kind === kind) n.end();
    };

    // The cursor file's writes, one after another in the order made (a rename racing another
    // could leave an older cursor in place).
    let saving: Promise<void> = Promise.resolve();
    const save = (cur: Cursor) => {
      // The bin as it was when the position was taken, not when the write's turn comes.
      const made = binCreatedAt;
      return (saving = saving.then(() => saveCursor(cursorReal, { lastId: cur.lastId, lastSeq: cur.lastSeq ?? null, binId, server: c.server, ...(made ? { binCreatedAt: made } : {}) }, cursorFile)));
    };

    // The server unreachable: its calls failing or the live link down, since the first of
    // them went (see giveUpMs). The relay ends once that has lasted giveUpMs.
    const down = new Set<'calls' | 'link'>();
    let giveUpTimer: NodeJS.Timeout | undefined;
    const serverDown = (what: 'calls' | 'link') => {
      if (stopped) return;
      if (down.size === 0 && Number.isFinite(giveUpMs)) {
        giveUpTimer = setTimeout(() => {
          const where = cursor.lastId === null || cursor.lastId === '0' ? 'no capture yet' : cursor.lastId;
          stop(new CliError(`${gaveUp(c, o, giveUpMs)}; the last capture every target had: ${where}; run again to go on from the cursor file ${cursorFile}`, EXIT.server));
        }, giveUpMs);
      }
      down.add(what);
    };
    const serverUp = (what: 'calls' | 'link') => {
      down.delete(what);
      if (down.size === 0) clearTimeout(giveUpTimer);
    };

    const stop = (err?: Error) => {
      if (stopped) return;
      stopped = true;
      clearTimeout(giveUpTimer);
      clearTimeout(resubscribe);
      socket.close();
      wake();
      // The last cursor write lands first.
      const end = () => (err ? reject(err) : resolve());
      saving.then(end, (e: Error) => (err ? reject(err) : reject(e)));
    };

    // A call to the server, again and again while the server cannot answer (down, restarting,
    // the network gone), said once per outage. Anything else (a refused token, a deleted bin)
    // ends the relay. Answers STOPPED when the relay was stopped meanwhile.
    const STOPPED = Symbol('stopped');
    let outage = false;
    const untilAnswered = async <T>(what: () => Promise<T>): Promise<T | typeof STOPPED> => {
      for (let wait = RETRY_FIRST_MS; ; wait = Math.min(RETRY_MAX_MS, wait * 2)) {
        if (stopped) return STOPPED;
        try {
          const v = await what();
          if (outage) say(`hooklab at ${c.server} answers again; going on from the cursor`);
          outage = false;
          serverUp('calls');
          return v;
        } catch (e) {
          if (!(e instanceof CliError) || !e.transient) {
            if (e instanceof CliError && e.status === 404) throw new CliError(`bin ${binId} is gone (deleted?): ${e.message}`, EXIT.server);
            throw e;
          }
          // Ended because the live link came back (see inflight): asked again at once.
          if (e.aborted) {
            wait = RETRY_FIRST_MS / 2;
            continue;
          }
          const until = Number.isFinite(giveUpMs) ? `for up to ${giveUpMs / 1000} s` : 'until it answers';
          if (!outage) say(`${downWhy(c, e)}; retrying ${until} (nothing is skipped)`);
          outage = true;
          serverDown('calls');
          // A busy server's Retry-After (429, 503) is waited out, not tried into.
          await nap(Math.max(wait, Math.min(MAX_RETRY_AFTER_MS, e.retryAfterMs ?? 0)), e.retryAfterMs !== undefined ? 'busy' : 'server');
        }
      }
    };

    // What this run forwarded, for the line that ends it early. The cursor alone cannot say:
    // on a first run it starts at the bin's newest capture, which was not forwarded.
    let forwarded = 0;
    // Captures gone from the bin between being heard of and being fetched.
    let lost = 0;
    let cut = 0; // captures not forwarded because the server cut their bodies (MAX_BODY_BYTES)
    // `partial`: the capture at hand reached some targets, not all.
    const forwardedSoFar = (partial: boolean) => {
      const last = forwarded > 0 && cursor.lastId !== '0' ? cursor.lastId : storedLast && storedLast !== '0' ? storedLast : null;
      const what = forwarded > 0 ? `${plural(forwarded, 'capture')} forwarded before it` : partial ? 'nothing reached every target' : 'nothing was forwarded';
      return last ? `${what}; the last capture every target had: ${last}` : what;
    };

    /** The capture at hand, fetched with those queued after it: `batchMax` in all, their bodies at most FETCH_AHEAD_BYTES (by their full size, an upper bound of what is stored). */
    const fetchAhead = async (r: RequestItem): Promise<z.infer<typeof ExportLine> | null | typeof STOPPED> => {
      if (deleted.has(r.id)) return null;
      if (fetched.has(r.id)) {
        const cap = fetched.get(r.id)!;
        fetched.delete(r.id);
        return cap;
      }
      const ids = [r.id];
      let bytes = r.size;
      let chars = r.id.length;
      for (const q of queue) {
        if (ids.length >= batchMax || bytes + q.size > FETCH_AHEAD_BYTES || chars + 1 + q.id.length > IDS_MAX_CHARS) break;
        // Already forwarded (replayed again after a reconnect), or deleted: not asked for.
        if ((cursor.lastId !== null && q.id <= cursor.lastId) || q.id === r.id || deleted.has(q.id)) continue;
        ids.push(q.id);
        bytes += q.size;
        chars += 1 + q.id.length;
      }
      const gen = generation;
      let got: Awaited<ReturnType<typeof fetchCaptures>> | typeof STOPPED;
      for (;;) {
        try {
          got = await untilAnswered(() => fetchCaptures(ids));
          break;
        } catch (e) {
          // The URL too long for the server or a proxy in front of it (nginx: 414, Node: 431):
          // half as many ids, from now on. One id refused is an error as any other.
          if (!(e instanceof CliError) || (e.status !== 414 && e.status !== 431) || ids.length === 1) throw e;
          const n = ids.length;
          batchMax = Math.floor(n / 2);
          ids.length = batchMax;
          say(`hooklab at ${c.server} (or a proxy in front of it) answered ${e.status} to a call for ${n} captures, its URL too long: asking for ${batchMax} at a time from now on`);
        }
      }
      if (got === STOPPED) return STOPPED;
      // The others are kept unless the link came back meanwhile: its backfill queues them again.
      // Those deleted while the call was out are not.
      if (gen === generation) for (const [id, line] of got) if (id !== r.id && !deleted.has(id)) fetched.set(id, line);
      return deleted.has(r.id) ? null : (got.get(r.id) ?? null);
    };

    /** Sends one capture to every target; false when the relay stopped first (it was not sent). */
    const sendOne = async (r: RequestItem): Promise<boolean> => {
      const cap = await fetchAhead(r);
      if (cap === STOPPED) return false;
      if (!cap) {
        // Its id alone would not say which webhook it was (it cannot be looked up any more).
        lost++;
        const what = `${r.method} ${r.path}${r.queryString ? `?${r.queryString}` : ''} received ${r.receivedAt}`;
        const why = 'gone from the bin before it could be forwarded (deleted, or pushed out by its cap)';
        say(`${why}: ${what} (id ${r.id}); ${lost} lost so far`);
        // Its line too (--json readers count lines): no target got it.
        const none = notSent(o.to, r, 'gone', why);
        process.stdout.write(`${o.json ? jsonLine(r, none) : line(r, none)}\n`);
        return true;
      }
      if (cap.truncated) {
        // Its first bytes are not the request that came: your app (and its signature check)
        // would get other bytes. Said, and the cursor moves past it: it can never be sent whole.
        cut++;
        const what = `${r.method} ${r.path}${r.queryString ? `?${r.queryString}` : ''} received ${r.receivedAt}`;
        const kept = Buffer.byteLength(cap.body, 'base64');
        const why = `the server cut its body at its MAX_BODY_BYTES (${kept} of ${cap.size} bytes kept), so your app would get other bytes than the sender sent`;
        say(`not forwarded: ${what} (id ${r.id}): ${why}; ${cut} not forwarded so far`);
        // Its line too, as a blocked one's (--json readers see it): no target got it.
        const none = notSent(o.to, r, 'truncated', why);
        process.stdout.write(`${o.json ? jsonLine(r, none) : line(r, none)}\n`);
        return true;
      }
      const capture = { method: cap.method, path: cap.path, queryString: cap.queryString, headers: cap.headers.flat(), body: Buffer.from(cap.body, 'base64') };
      const results: ForwardResult[] = [];
      for (const target of o.to) {
        // Stopped (given up, Ctrl-C): no new sending; the cursor stays before this capture.
        if (stopped) return false;
        // A target that cannot be reached is retried: the event is not dropped.
        for (let attempt = 1; ; attempt++) {
          const res = await forwardRequest(target, capture, { timeoutMs, maxResponseBytes: 64 * 1024 });
          if (res.status !== null) {
            results.push(res);
            break;
          }
          // Refused by rule (a sub-path that climbs out of the target's): retrying cannot help.
          // Said, not dropped silently; the cursor moves past it like a delivered one.
          if (res.error === 'blocked') {
            process.stderr.write(`${r.id} to ${target}: ${res.errorDetail}\n`);
            results.push(res);
            break;
          }
          // Stopped while it was in flight: no retry (nor its back-off wait, nor a line saying one comes).
          if (stopped) return false;
          // --once (a CI step) does not wait long for a target: 5 tries, about 7.5 s.
          if (o.once && attempt >= ONCE_TARGET_TRIES) throw new CliError(`${target}: ${res.errorDetail} (gave up after ${attempt} tries with --once; ${forwardedSoFar(results.length > 0)}; run again to go on from the cursor file ${cursorFile})`, EXIT.negative);
          const wait = Math.min(30_000, 500 * 2 ** (attempt - 1));
          // Which capture, and (once) why nothing else moves meanwhile: the relay keeps order.
          const which = `${r.method} ${r.path}${r.queryString ? `?${r.queryString}` : ''}, id ${r.id}`;
          const held = attempt === 1 ? '; the captures after it wait (in order, every target has each one first)' : '';
          process.stderr.write(`${target}: ${res.errorDetail} (${which}); retrying in ${wait / 1000} s${held}\n`);
          await nap(wait, 'target');
          if (stopped) return false;
        }
      }
      forwarded++;
      const trailers = cap.trailers?.length ?? 0;
      process.stdout.write(`${o.json ? jsonLine(r, results, trailers) : line(r, results, trailers)}\n`);
      return true;
    };

    const pump = async () => {
      if (working) return;
      working = true;
      try {
        while (queue.length && !stopped) {
          if (onceUntil !== null && queue[0].id > onceUntil) break;
          const r = queue.shift()!;
          // Already forwarded: replayed again after a reconnect.
          if (cursor.lastId !== null && r.id <= cursor.lastId) continue;
          atHand = r.id;
          const made = binCreatedAt;
          const sent = await sendOne(r);
          atHand = null;
          deleted.delete(r.id);
          if (!sent) break; // stopped before it was sent: the cursor stays
          // The bin was found made again meanwhile (see subscribe): the cursor is the new bin's now.
          if (made !== binCreatedAt) continue;
          cursor = { lastId: r.id, lastSeq: r.seq ?? null };
          await save(cursor);
        }
      } catch (e) {
        stop(e as Error);
      } finally {
        working = false;
      }
      if (o.once && caughtUp && !stopped && (queue.length === 0 || (onceUntil !== null && queue[0].id > onceUntil))) {
        if (queue.length) say(`--once: done up to ${onceUntil}, the bin's newest capture when the relay caught up; those that came after it (${queue.length} so far) are left for the next run`);
        stop();
      }
    };

    const socket = openLiveSocket(c, (e) => stop(e));
    let pending: RequestItem[] | null = null; // events before the subscribe is answered
    let acked = false; // a subscribe of this run was answered
    let heard: string | null = null; // the newest capture heard of in this run
    let generation = 0;
    let subscribeRetry = RETRY_FIRST_MS;
    let resubscribe: NodeJS.Timeout | undefined;
    const readBin = async () => (await call(c, 'GET', `/api/bins/${binId}`, { timeoutMs: API_TIMEOUT_MS })).json() as Promise<Bin>;
    const subscribe = async () => {
      clearTimeout(resubscribe);
      if (stopped || !socket.connected) return;
      const gen = ++generation;
      // What the last connection had queued and not sent yet comes again in the backfill
      // (everything after the cursor): dropped here rather than sent twice.
      queue.length = 0;
      fetched.clear();
      deleted.clear();
      pending = [];
      caughtUp = false;
      // Not the first subscribe: the bin is read again. One deleted and made again with its id
      // while the link was down (a server restart, a ping timeout: no bin:deleted reached the
      // relay) is another bin: followed from its first capture, and the cursor file says which
      // bin its position is in, or the next start would take the new bin's captures for ones
      // never forwarded and send them again.
      if (gen > 1) {
        let now: Bin | typeof STOPPED;
        try {
          now = await untilAnswered(readBin);
        } catch (e) {
          return stop(e as Error);
        }
        if (now === STOPPED || stopped || gen !== generation) return;
        if (now.createdAt && binCreatedAt && now.createdAt !== binCreatedAt) {
          const last = cursor.lastId === null || cursor.lastId === '0' ? 'none' : cursor.lastId;
          say(
            `bin ${binId} was deleted and made again while the relay was away (made ${binCreatedAt}, now ${now.createdAt}): ` +
              `the old bin's captures after the last one forwarded (${last}) went with it, how many is unknown; going on with the new bin from its first capture`,
          );
          binCreatedAt = now.createdAt;
          cursor = { lastId: '0', lastSeq: 0 };
          save(cursor).catch((e: Error) => stop(e));
        }
      }
      const asked = cursor;
      socket.emit('subscribe', { binId, lastId: asked.lastId, lastSeq: asked.lastSeq ?? null }, (ack: SubscribeAck) => {
        if (stopped || gen !== generation) return;
        if (!ack.ok) {
          if (ack.error === 'bin not found') return stop(new CliError(`cannot follow bin ${binId}: ${ack.error} (deleted?)`, EXIT.server));
          // A server that cannot serve the backfill now (its store busy or away): again, later.
          say(`cannot follow bin ${binId} yet (${ack.error}); retrying`);
          // Out of the room first (it may have been joined): its live events would otherwise
          // come before the backfill of the next try, out of order.
          socket.emit('unsubscribe', { binId });
          resubscribe = setTimeout(() => void subscribe(), subscribeRetry);
          subscribeRetry = Math.min(RETRY_MAX_MS, subscribeRetry * 2);
          return;
        }
        subscribeRetry = RETRY_FIRST_MS;
        const missed = ack.backfilled ?? 0;
        // The backfill comes first. What of it was heard before the link dropped (queued, not
        // yet sent) is sent now all the same, but was not missed.
        const backfill = (pending ?? []).slice(0, missed);
        const away = heard === null ? missed : backfill.filter((r) => r.id > heard!).length;
        for (const r of pending ?? []) if (heard === null || r.id > heard) heard = r.id;
        const first = !acked;
        acked = true;
        if (first) say(`forwarding ${c.server}${RECEIVER_PREFIX}${binId} to ${o.to.join(', ')} ${o.once ? '(until caught up)' : '(Ctrl-C to stop)'}`);
        if (first && fromStart) {
          const older = ack.gap ? ` (${plural(ack.gap, 'older one')} ${ack.gap === 1 ? 'is' : 'are'} gone from it: pushed out by its cap, or deleted)` : '';
          say(`forwarding the ${plural(missed, 'request')} the bin holds${older}`);
        } else {
          if (away > 0) say(`missed ${away} while away, replaying`);
          if (ack.gap) say(`${ack.gap} request(s) were gone from the bin (pushed out by its cap, or deleted) before they could be forwarded`);
          if (ack.gapUncounted) {
            say(
              asked.lastSeq == null
                ? 'some requests were gone from the bin (pushed out by its cap, or deleted) before they could be forwarded; how many is unknown (the cursor file has no arrival number)'
                : // The bin's numbers went back below the cursor's (see live/socket.ts).
                  "the bin's arrival numbers went back below the last request forwarded (the bin deleted and made again, or the server stopped before writing its latest captures): any that came after it and are gone were not forwarded, how many is unknown",
            );
          }
        }
        if (cursor === asked) {
          let next: Cursor = cursor;
          // A first run: from where the bin stands now (an empty bin: from its start). After
          // a disconnect or a restart before anything was forwarded, what came meanwhile is
          // replayed, not lost; its arrival number lets a gap then be counted.
          if (cursor.lastId === null) next = { lastId: ack.lastId ?? '0', lastSeq: ack.lastSeq ?? null };
          // The numbers reported gone are accounted for: not reported again after a reconnect
          // (the first one replayed comes right after them).
          else if (ack.gap && asked.lastSeq != null) next = { lastId: cursor.lastId, lastSeq: asked.lastSeq + ack.gap };
          // A first --from-start run writes its cursor at once, as a first run does.
          if (next !== cursor || (first && !storedLast)) {
            cursor = next;
            save(cursor).catch((e: Error) => stop(e));
          }
        }
        if (first && o.once) onceUntil = (pending ?? []).reduce((m, r) => (r.id > m ? r.id : m), cursor.lastId ?? '0');
        queue.push(...(pending ?? []));
        pending = null;
        caughtUp = true;
        void pump();
      });
    };
    socket.on('disconnect', () => serverDown('link'));
    socket.on('connect_error', () => serverDown('link'));
    socket.on('connect', () => {
      serverUp('link');
      wake('server'); // it is back: a call waiting to be retried goes now
      // And a call in flight is asked again: its connection may have died without a word, as
      // the link's did (it would hang until API_TIMEOUT_MS).
      inflight?.abort(new Error('the live link reconnected; asking again'));
      void subscribe();
    });
    socket.on('request', (r: RequestItem) => {
      if (r.binId !== binId) return;
      if (!pending && (heard === null || r.id > heard)) heard = r.id;
      if (pending) pending.push(r);
      else {
        queue.push(r);
        void pump();
      }
    });
    // Deleted on the server (one, or 'all' when the bin was cleared): those the relay holds are
    // not forwarded. Pushed out by a cap ('evicted'): one already fetched is still forwarded
    // rather than lost (the reason is missing from servers before it was added: as deleted).
    socket.on('requests:deleted', (e: { binId: string; ids: string[] | 'all'; reason?: string }) => {
      if (e.binId !== binId || e.reason === 'evicted') return;
      const ids = e.ids === 'all' ? null : new Set(e.ids);
      const held = [...(atHand ? [atHand] : []), ...queue.map((r) => r.id), ...(pending ?? []).map((r) => r.id)];
      for (const id of held) {
        if (ids && !ids.has(id)) continue;
        deleted.add(id);
        fetched.delete(id);
      }
    });
    socket.on('bin:deleted', () => stop(new CliError(`bin ${binId} was deleted`, EXIT.server)));
    // Ctrl-C, or a service manager's or CI's stop: the request in flight ends, then it exits.
    const onSignal = (sig: string) => {
      if (stopped) return;
      process.stderr.write(`${stopCause(sig)}: stopping (a request in flight is let finish; no new one starts)\n`);
      stop();
    };
    process.once('SIGINT', () => onSignal('SIGINT')); // once: a second Ctrl-C ends it at once
    // Kept (onSignal says it once): a closed stdout asks for a stop this way too (see cli/main.ts).
    process.on('SIGTERM', () => onSignal('SIGTERM'));
  });
}
