// hooklab tail: follow a bin live, one line per request (or NDJSON with --json). Survives
// reconnects: it resubscribes from the last id it printed (or, before the first, from where
// the bin stood when it started following), so nothing is skipped.
import type { RequestItem, SubscribeAck } from '../../../shared/api.ts';
import { type Conn, CliError, EXIT, binIdOf } from '../client.ts';
import { clockTime } from '../clock-time.ts';
import { openLiveSocket } from '../live-socket.ts';

const targetOf = (r: RequestItem) => r.path + (r.queryString ? `?${r.queryString}` : '');
const answerOf = (r: RequestItem) => r.status ?? r.answer.fault ?? '-';
const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

/** hooklab closed the connection for an earlier pipelined request's fault (answer.closedByFault). */
const closedFor = (r: RequestItem) => `hooklab closed the connection for an earlier request's ${r.answer.closedByFault} on it`;

export function line(r: RequestItem): string {
  const hungUp = r.answer.hungUpAfterMs;
  const status =
    hungUp === undefined
      ? answerOf(r)
      : r.answer.closedByFault
        ? `${answerOf(r)} not sent (${closedFor(r)})`
        : r.answer.fault === 'timeout'
          ? `timeout (the sender gave up after ${seconds(hungUp)})`
          : `${answerOf(r)} not sent (the sender hung up after ${seconds(hungUp)})`;
  return `${clockTime(r.receivedAt)}  ${r.method.padEnd(6)} ${targetOf(r)}  ${status}  ${r.size} B${r.contentType ? `  ${r.contentType}` : ''}`;
}

/**
 * A capture printed earlier whose sender has since hung up before its answer went (a slow
 * answer or a hang longer than the sender's timeout): its line said the status it was to get.
 */
export function hungUpLine(r: RequestItem): string {
  const after = seconds(r.answer.hungUpAfterMs!);
  const what = r.answer.closedByFault
    ? `${closedFor(r)} after ${after}: the sender never got the ${answerOf(r)}`
    : r.answer.fault === 'timeout'
      ? `the sender gave up after ${after} (this answer never comes)`
      : `the sender hung up after ${after}: it never got the ${answerOf(r)}`;
  return `${clockTime(r.receivedAt)}  ${r.method.padEnd(6)} ${targetOf(r)}  ${what}`;
}

/** Printed captures kept for a hang-up line (the newest); the oldest forgotten past this. */
const MAX_PENDING = 10_000;

/** A subscribe the server could not serve is asked again after this, doubling up to the cap. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

export function tail(c: Conn, bin: string, o: { json?: boolean }): Promise<void> {
  const binId = binIdOf(bin);
  return new Promise((_resolve, reject) => {
    let last: string | null = null;
    let following = false; // said once, not again after each reconnect
    let retry: NodeJS.Timeout | undefined;
    let wait = RETRY_FIRST_MS;
    let waiting = false; // a refusal said, its retry not yet answered
    const socket = openLiveSocket(c, (e) => {
      clearTimeout(retry);
      socket.close();
      reject(e);
    });
    const subscribe = () => {
      clearTimeout(retry);
      if (!socket.connected) return;
      socket.emit('subscribe', { binId, lastId: last }, (ack: SubscribeAck) => {
        if (!ack.ok && ack.error === 'bin not found') {
          socket.close();
          // An unknown bin given is the user's to fix (exit 2); one that went away while
          // followed is not.
          reject(new CliError(`cannot follow bin ${binId}: ${ack.error}`, following ? EXIT.server : EXIT.usage));
        } else if (!ack.ok) {
          // A server that cannot serve the subscription now (its store away, a restart):
          // asked again, backing off, said once; what comes meanwhile is replayed then.
          if (!waiting) process.stderr.write(`cannot follow bin ${binId} yet (${ack.error}); retrying\n`);
          waiting = true;
          socket.emit('unsubscribe', { binId }); // its live events would come before the retry's backfill
          retry = setTimeout(subscribe, Math.max(wait, ack.retryAfterMs ?? 0));
          wait = Math.min(RETRY_MAX_MS, wait * 2);
        } else {
          wait = RETRY_FIRST_MS;
          if (waiting && following) process.stderr.write(`following bin ${binId} again\n`);
          waiting = false;
          if (!following) {
            following = true;
            // From here on: a reconnect replays what came while away (an empty bin: all of it).
            if (last === null) last = ack.lastId ?? '0';
            process.stderr.write(`following ${c.server}/h/${binId} (Ctrl-C to stop)\n`);
          }
        }
      });
    };
    socket.on('connect', subscribe);
    // Captures printed without a hang-up: their sender may yet hang up before the answer goes
    // (a delay, a hang, a target's answer, a store slow to confirm), told in a second line.
    const printed = new Set<string>();
    socket.on('request', (r: RequestItem) => {
      if (r.binId !== binId || (last !== null && r.id <= last)) return;
      last = r.id;
      if (!o.json && r.answer.hungUpAfterMs === undefined) {
        printed.add(r.id);
        if (printed.size > MAX_PENDING) printed.delete(printed.values().next().value!);
      }
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${line(r)}\n`);
    });
    // --json prints each capture once, as it came; the text lines follow up on a hang-up, once,
    // of a capture printed here (not one from before the tail, nor one whose line said it).
    if (!o.json) {
      socket.on('requests:updated', (e: { binId: string; items: RequestItem[] }) => {
        if (e.binId !== binId) return;
        for (const r of e.items) {
          if (r.answer.hungUpAfterMs === undefined || !printed.delete(r.id)) continue;
          process.stdout.write(`${hungUpLine(r)}\n`);
        }
      });
    }
    socket.on('bin:deleted', () => {
      socket.close();
      reject(new CliError(`bin ${binId} was deleted`, EXIT.server));
    });
  });
}
