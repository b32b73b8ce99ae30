// hooklab tail: follow a bin live, one line per request (or NDJSON with --json). Survives
// reconnects: it resubscribes from the last id it printed (or, before the first, from where
// the bin stood when it started following), so nothing is skipped.
import type { RequestItem, SubscribeAck } from '../../../shared/api.ts';
import { type Conn, CliError, EXIT, binIdOf } from '../client.ts';
import { clockTime } from '../clock-time.ts';
import { openLiveSocket } from '../live-socket.ts';

export function line(r: RequestItem): string {
  const t = clockTime(r.receivedAt);
  const target = r.path + (r.queryString ? `?${r.queryString}` : '');
  const status = r.status ?? r.answer.fault ?? '-';
  return `${t}  ${r.method.padEnd(6)} ${target}  ${status}  ${r.size} B${r.contentType ? `  ${r.contentType}` : ''}`;
}

export function tail(c: Conn, bin: string, o: { json?: boolean }): Promise<void> {
  const binId = binIdOf(bin);
  return new Promise((_resolve, reject) => {
    let last: string | null = null;
    let following = false; // said once, not again after each reconnect
    const socket = openLiveSocket(c, (e) => {
      socket.close();
      reject(e);
    });
    socket.on('connect', () => {
      socket.emit('subscribe', { binId, lastId: last }, (ack: SubscribeAck) => {
        if (!ack.ok) {
          socket.close();
          // An unknown bin given is the user's to fix (exit 2); one that went away while
          // followed, or a server that cannot serve the subscription, is not.
          const unknown = !following && ack.error === 'bin not found';
          reject(new CliError(`cannot follow bin ${binId}: ${ack.error}`, unknown ? EXIT.usage : EXIT.server));
        } else if (!following) {
          following = true;
          // From here on: a reconnect replays what came while away (an empty bin: all of it).
          if (last === null) last = ack.lastId ?? '0';
          process.stderr.write(`following ${c.server}/h/${binId} (Ctrl-C to stop)\n`);
        }
      });
    });
    socket.on('request', (r: RequestItem) => {
      if (r.binId !== binId || (last !== null && r.id <= last)) return;
      last = r.id;
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${line(r)}\n`);
    });
    socket.on('bin:deleted', () => {
      socket.close();
      reject(new CliError(`bin ${binId} was deleted`, EXIT.server));
    });
  });
}
