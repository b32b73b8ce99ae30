// One dispatcher call passed to the instance holding the lease, over HTTP, telling a call that
// never reached it (nothing was sent: safe to retry) from one sent whose outcome is unknown
// (the holder may have acted on it: retrying could make a second Test or run).
import http from 'node:http';
import https from 'node:https';

export interface PassOnRequest {
  method: string;
  headers: Record<string, string>;
  /** JSON text, or undefined for none. */
  body?: string;
  /** Past it, the call ends as outcome unknown. */
  timeoutMs: number;
  /**
   * Looked at every `watchMs` while the answer is awaited: a reason (the holder lost the lease,
   * say) ends the call as outcome unknown; null goes on waiting.
   */
  watch?: () => Promise<string | null>;
  watchMs?: number;
}

/** A holder whose machine vanished answers no SYN: given up on, as not reached, after this. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface PassOnAnswer {
  status: number;
  text: string;
}

/** The call failed: `reached` false when the holder cannot have seen it. */
export class PassOnError extends Error {
  constructor(
    readonly reached: boolean,
    readonly timedOut: boolean,
    message: string,
  ) {
    super(message);
  }
}

export function passOn(url: string, r: PassOnRequest): Promise<PassOnAnswer> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  const body = r.body === undefined ? undefined : Buffer.from(r.body);
  return new Promise<PassOnAnswer>((resolve, reject) => {
    // A fresh connection each time (agent: false): a pooled one the holder is just closing
    // would break after the call was written, and leave its outcome needlessly unknown.
    const req = mod.request(u, {
      method: r.method,
      agent: false,
      headers: { ...r.headers, 'content-length': String(body?.length ?? 0) },
    });
    // Until the connection is made nothing of the call can have reached the holder.
    let connected = false;
    let done = false;
    const finish = (err: PassOnError | null, answer?: PassOnAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(connecting);
      clearInterval(watcher);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(answer!);
    };
    const timer = setTimeout(() => finish(new PassOnError(true, true, `no answer within ${r.timeoutMs} ms`)), r.timeoutMs);
    const connecting = setTimeout(() => {
      if (!connected) finish(new PassOnError(false, true, `could not connect within ${CONNECT_TIMEOUT_MS} ms`));
    }, Math.min(CONNECT_TIMEOUT_MS, r.timeoutMs));
    let looking = false;
    const watcher = setInterval(() => {
      if (!r.watch || looking || !connected) return;
      looking = true;
      r.watch()
        .then((why) => {
          if (why) finish(new PassOnError(true, false, why));
        })
        .catch(() => {}) // the watch cannot look (Redis away): keep waiting
        .finally(() => (looking = false));
    }, r.watchMs ?? 1000);
    req.on('socket', (s) => {
      if (!s.connecting) connected = true;
      else s.once(mod === https ? 'secureConnect' : 'connect', () => (connected = true));
    });
    req.on('error', (err) => finish(new PassOnError(connected, false, connected ? `the connection broke: ${err.message}` : `not reached: ${err.message}`)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish(null, { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => finish(new PassOnError(true, false, `the answer broke off: ${err.message}`)));
      res.on('aborted', () => finish(new PassOnError(true, false, 'the answer broke off')));
    });
    req.end(body);
  });
}
