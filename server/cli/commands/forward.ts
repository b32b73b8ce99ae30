// hooklab forward <bin URL> --to http://localhost:3000/hooks: a relay for a laptop the server
// cannot reach. It follows the bin over Socket.IO and sends every capture to the local
// targets, byte-exact (server/forward/request.ts). It never loses an event silently: the last
// id it forwarded is kept in a cursor file; after a disconnect, a sleep or a restart it first
// replays what it missed, in order, and says how many; a target that cannot be reached is
// retried (the cursor does not move past an event until every target has had it).
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { RequestItem, SubscribeAck } from '../../../shared/api.ts';
import type { z } from 'zod';
import type { ExportLine } from '../../../shared/schema/exchange.ts';
import { type ForwardResult, forwardRequest } from '../../forward/request.ts';
import { type Conn, CliError, EXIT, binIdOf, call } from '../client.ts';
import { openLiveSocket } from '../live-socket.ts';

export interface ForwardOptions {
  to: string[];
  cursor?: string;
  fromStart?: boolean;
  once?: boolean;
  timeout: string;
}

interface Cursor {
  lastId: string | null;
  lastSeq?: number | null;
}

const ms = (s: string) => {
  const m = /^(\d+)(ms|s)?$/.exec(s);
  if (!m) throw new CliError(`--timeout must be a duration such as 10s or 500ms, got "${s}"`, EXIT.usage);
  return m[2] === 'ms' ? Number(m[1]) : Number(m[1]) * 1000;
};

async function loadCursor(file: string): Promise<Cursor | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Cursor;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`cannot read the cursor file ${file}: ${(e as Error).message}`, EXIT.usage);
  }
}

async function saveCursor(file: string, c: Cursor) {
  await writeFile(`${file}.tmp`, JSON.stringify(c));
  await rename(`${file}.tmp`, file); // never half-written
}

function line(r: RequestItem, results: ForwardResult[]): string {
  const what = `${r.receivedAt.slice(11, 23)}  ${r.method} ${r.path}${r.queryString ? `?${r.queryString}` : ''}`;
  const outcomes = results.map((x) => `→ ${x.status ?? x.error} (${x.durationMs} ms) ${x.url}`);
  return [what, ...outcomes].join('  ');
}

export async function forward(c: Conn, bin: string, o: ForwardOptions): Promise<void> {
  if (!o.to?.length) throw new CliError('give at least one --to URL (where to send the captures)', EXIT.usage);
  for (const t of o.to) {
    if (!URL.canParse(t) || !/^https?:$/.test(new URL(t).protocol)) throw new CliError(`--to must be an http(s) URL, got "${t}"`, EXIT.usage);
  }
  const timeoutMs = ms(o.timeout);
  const binId = binIdOf(bin);
  const cursorFile = o.cursor ?? `.hooklab-forward-${binId}.json`;
  let cursor: Cursor = (await loadCursor(cursorFile)) ?? { lastId: o.fromStart ? '0' : null };
  if (o.fromStart && !cursor.lastId) cursor = { lastId: '0' };
  // Fail early, with one line, on a wrong token or an unknown bin.
  await call(c, 'GET', `/api/bins/${binId}`);

  const fetchCapture = async (id: string): Promise<z.infer<typeof ExportLine> | null> => {
    const res = await call(c, 'GET', `/api/bins/${binId}/export?ids=${id}`);
    const text = (await res.text()).trim();
    return text ? (JSON.parse(text) as z.infer<typeof ExportLine>) : null;
  };

  return new Promise((resolve, reject) => {
    const queue: RequestItem[] = [];
    let working = false;
    let caughtUp = false;
    let stopped = false;
    const stop = (err?: Error) => {
      if (stopped) return;
      stopped = true;
      socket.close();
      if (err) reject(err);
      else resolve();
    };

    const sendOne = async (r: RequestItem) => {
      const cap = await fetchCapture(r.id);
      if (!cap) {
        process.stderr.write(`${r.id}: gone from the bin before it could be forwarded (deleted or evicted)\n`);
        return;
      }
      const capture = { method: cap.method, path: cap.path, queryString: cap.queryString, headers: cap.headers.flat(), body: Buffer.from(cap.body, 'base64') };
      const results: ForwardResult[] = [];
      for (const target of o.to) {
        // A target that cannot be reached is retried: the event is not dropped.
        for (let attempt = 1; ; attempt++) {
          const res = await forwardRequest(target, capture, { timeoutMs, maxResponseBytes: 64 * 1024 });
          if (res.status !== null) {
            results.push(res);
            break;
          }
          if (o.once && attempt >= 5) throw new CliError(`${target}: ${res.errorDetail} (gave up after ${attempt} tries; nothing after ${cursor.lastId} was forwarded)`, EXIT.negative);
          const wait = Math.min(30_000, 500 * 2 ** (attempt - 1));
          process.stderr.write(`${target}: ${res.errorDetail}; retrying in ${wait / 1000} s\n`);
          await new Promise((res) => setTimeout(res, wait));
          if (stopped) return;
        }
      }
      process.stdout.write(`${line(r, results)}\n`);
    };

    // The cursor file's writes, one after another in the order made (a rename racing another
    // could leave an older cursor in place).
    let saving: Promise<void> = Promise.resolve();
    const save = (cur: Cursor) => (saving = saving.then(() => saveCursor(cursorFile, cur)));

    const pump = async () => {
      if (working) return;
      working = true;
      try {
        while (queue.length && !stopped) {
          const r = queue.shift()!;
          if (cursor.lastId && r.id <= cursor.lastId) continue; // replayed twice after a reconnect
          await sendOne(r);
          cursor = { lastId: r.id, lastSeq: r.seq ?? null };
          await save(cursor);
        }
      } catch (e) {
        stop(e as Error);
      } finally {
        working = false;
      }
      if (o.once && caughtUp && queue.length === 0 && !stopped) stop();
    };

    const socket = openLiveSocket(c, (e) => stop(e));
    let pending: RequestItem[] | null = null; // events before the subscribe is answered
    socket.on('connect', () => {
      pending = [];
      caughtUp = false;
      socket.emit('subscribe', { binId, lastId: cursor.lastId, lastSeq: cursor.lastSeq ?? null }, (ack: SubscribeAck) => {
        if (!ack.ok) return stop(new CliError(`cannot follow bin ${binId}: ${ack.error}`, EXIT.server));
        const missed = ack.backfilled ?? 0;
        if (cursor.lastId && missed > 0) process.stderr.write(`missed ${missed} while away, replaying\n`);
        if (ack.gap) process.stderr.write(`${ack.gap} request(s) were gone from the bin (pushed out by its cap, or deleted) before they could be forwarded\n`);
        if (!cursor.lastId) {
          process.stderr.write(`forwarding ${c.server}/h/${binId} to ${o.to.join(', ')} (Ctrl-C to stop)\n`);
          // From where the bin stands now (an empty bin: from its start): after a disconnect or
          // a restart before anything was forwarded, what came meanwhile is replayed, not lost.
          cursor = { lastId: ack.lastId ?? '0', lastSeq: ack.lastSeq ?? null };
          save(cursor).catch((e: Error) => stop(e));
        }
        queue.push(...(pending ?? []));
        pending = null;
        caughtUp = true;
        void pump();
      });
    });
    socket.on('request', (r: RequestItem) => {
      if (r.binId !== binId) return;
      if (pending) pending.push(r);
      else {
        queue.push(r);
        void pump();
      }
    });
    socket.on('bin:deleted', () => stop(new CliError(`bin ${binId} was deleted`, EXIT.server)));
    process.once('SIGINT', () => stop());
  });
}
