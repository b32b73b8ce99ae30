// hooklab wait: block until a capture matching the filters arrives (or already did), print it
// as JSON and exit 0; exit 1 on timeout. For shell scripts and CI.
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import type { RequestDetail, RequestPage } from '../../../shared/api.ts';
import { type Conn, CliError, EXIT, binIdOf, call, callJson, noSuchBin, readJson } from '../client.ts';
import { durationMs } from '../duration.ts';

export interface WaitOptions {
  method?: string;
  path?: string;
  status?: string;
  header?: string[];
  q?: string;
  key?: string;
  after?: string;
  /** Only captures that arrive after the command starts (not one stored already). */
  new?: boolean;
  timeout: string;
}

/** The longest wait the server allows (the wait API's `timeout`). */
export const MAX_WAIT_MS = 600_000;
/** Room over the wait's own timeout for the server's 408 to arrive (a slow link, a busy server). */
const ANSWER_MARGIN_MS = 30_000;
/** The least pause before asking a busy server again. */
const MIN_RETRY_PAUSE_MS = 1000;

/**
 * The HTTP client's timeouts for a wait of `timeoutMs`: above it, so the server's answer (the
 * capture, or 408 at the timeout) ends the wait, not the client. undici's defaults (300 s until
 * the answer's headers) cut a longer wait short as "cannot reach hooklab".
 */
export function waitClientTimeouts(timeoutMs: number): { headersTimeout: number; bodyTimeout: number } {
  const t = timeoutMs + ANSWER_MARGIN_MS;
  return { headersTimeout: t, bodyTimeout: t };
}

const REQUEST_ID = /^[0-9a-z]{1,40}$/;

export async function wait(c: Conn, bin: string, o: WaitOptions): Promise<void> {
  const binId = binIdOf(bin);
  const timeoutMs = durationMs(o.timeout, '--timeout');
  if (timeoutMs > MAX_WAIT_MS) throw new CliError(`--timeout must be at most 10m (the server's limit), got "${o.timeout}"`, EXIT.usage);
  if (o.after !== undefined && !REQUEST_ID.test(o.after)) throw new CliError(`--after must be a request id (as in X-Hooklab-Request-Id or a capture's "id"), got "${o.after}"`, EXIT.usage);
  if (o.after !== undefined && o.new) throw new CliError('give --after or --new, not both', EXIT.usage);
  const q = new URLSearchParams();
  if (o.method) q.set('method', o.method);
  if (o.path) q.set('path', o.path);
  if (o.status) q.set('status', o.status);
  for (const h of o.header ?? []) q.append('header', h);
  if (o.q) q.set('q', o.q);
  if (o.key) q.set('key', o.key);
  // The deadline starts now: --new's lookup below spends from the same --timeout.
  const deadline = Date.now() + timeoutMs;
  let after = o.after;
  if (o.new) {
    // What the bin holds now is not waited for: the newest capture so far is the cursor (an
    // empty bin: any capture is new).
    after = await newestId(c, binId, deadline);
    // From here on a new request counts: said, so a script can start the sender after it.
    process.stderr.write(`waiting for a new request (${after ? `newer than ${after}` : 'the bin is empty'})\n`);
  }
  if (after) q.set('after', after);
  const agent = new Agent(waitClientTimeouts(timeoutMs));
  try {
    // The whole --timeout, or what --new's lookup left of it.
    let left = o.new ? Math.max(1, deadline - Date.now()) : timeoutMs;
    /** The ask made at the wait's end: busy or unreachable again, it is the last. */
    let atEnd = false;
    /** The server is being waited for after a lost connection (said once per outage). */
    let lost = false;
    let detail: RequestDetail;
    for (;;) {
      q.set('timeout', `${left}ms`);
      try {
        const res = await call(c, 'GET', `/api/bins/${binId}/requests/wait?${q}`, { ok: [408], dispatcher: agent });
        if (res.status === 408) {
          await res.body?.cancel();
          throw new CliError(`no matching request within ${o.timeout}`, EXIT.negative);
        }
        detail = await readJson<RequestDetail>(res, c);
        break;
      } catch (e) {
        if (!(e instanceof CliError)) throw e;
        // A filter the server refused, named by its flag (the query's names are the flags').
        if (e.status === 400) throw new CliError(e.message.replace(/^(method|path|status|header|key|q|after|timeout)\b/, '--$1'), e.code, { status: e.status });
        // Removed while waited for: said as such (exit 3, as tail and forward), not as a wrong id (2).
        if (e.apiCode === 'bin_deleted') throw new CliError(`bin ${binId} was deleted while waited for`, EXIT.server, { status: e.status, apiCode: e.apiCode });
        // Busy for now (too many waits, answers held, …), or the server went away (a restart,
        // a network outage: refused, reset, closed): asked again for as long as the wait has
        // time left, the last time at its end (a match stored meanwhile is found by that
        // wait's scan). A busy server's Retry-After is kept to, at least MIN_RETRY_PAUSE_MS (a
        // Retry-After of 0 would have it ask again in a tight loop); an unreachable one is
        // asked every MIN_RETRY_PAUSE_MS.
        if (atEnd) throw noSuchBin(e, binId, c);
        const pause = retryPause(e, deadline, lost);
        if (pause === undefined) throw noSuchBin(e, binId, c);
        atEnd = Date.now() + pause >= deadline;
        lost = e.connectionLost;
        await sleep(pause);
        left = Math.max(1, deadline - Date.now());
      }
    }
    process.stdout.write(`${JSON.stringify(detail)}\n`);
  } finally {
    void agent.close().catch(() => {});
  }
}

/**
 * How long to pause before asking again after `e`, said on stderr (a lost server once per
 * outage: `lost`); undefined when asking again cannot help (a refusal, a host that does not
 * exist) or the wait has no time left.
 */
function retryPause(e: CliError, deadline: number, lost: boolean): number | undefined {
  const busy = (e.status === 503 || e.status === 429) && e.retryAfterMs !== undefined;
  const leftNow = deadline - Date.now();
  if (!(busy || e.connectionLost) || leftNow <= 0) return undefined;
  const pause = Math.min(Math.max(MIN_RETRY_PAUSE_MS, e.retryAfterMs ?? 0), leftNow);
  if (busy) process.stderr.write(`${e.message}; asking again in ${Math.round(pause / 100) / 10} s\n`);
  else if (!lost) process.stderr.write(`${e.message}; trying again for up to ${Math.round(leftNow / 100) / 10} s (the rest of --timeout)\n`);
  return pause;
}

/**
 * --new's cursor: the bin's newest capture id (undefined: the bin is empty). A busy or
 * unreachable server (a restart) is asked again as the wait itself is, within the same
 * --timeout, the last time at its end.
 */
async function newestId(c: Conn, binId: string, deadline: number): Promise<string | undefined> {
  let lost = false;
  let atEnd = false;
  for (;;) {
    try {
      const page = await callJson<RequestPage>(c, 'GET', `/api/bins/${binId}/requests?limit=1`);
      return page.requests[0]?.id;
    } catch (e) {
      if (!(e instanceof CliError) || atEnd) throw noSuchBin(e, binId, c);
      const pause = retryPause(e, deadline, lost);
      if (pause === undefined) throw noSuchBin(e, binId, c);
      atEnd = Date.now() + pause >= deadline;
      lost = e.connectionLost;
      await sleep(pause);
    }
  }
}
