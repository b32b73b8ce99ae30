// The budget for API answers held in memory for clients that have not read them yet
// (MAX_RESPONSE_BUFFER_BYTES). A capture's detail can be 12.5 MB of JSON (a 1 MiB gzip body in
// base64 plus its decoded view, MAX_DECODED_BYTES, in base64 too) and a list page tens of MB;
// Node keeps what the kernel does not take until the client reads it. 40 sockets that asked for
// such a detail and never read held +900 MB, for as long as they stayed open. Each large answer
// takes its bytes from the budget until it has been handed to the kernel whole ('finish') or its
// connection closes; past the budget the answer is 503 response_buffers_full with Retry-After.
// RESPONSE_STALL_MS (http/stall.ts) ends the connections that read nothing, freeing their share.
//
// Large answers are written in slices, each once the socket has taken the previous ones: what
// the client reads shows as progress (slices done) through public counters, which the stall
// check (http/stall.ts) looks for.
import type { Request, Response } from 'express';
import type { Config } from '../config.ts';
import { HttpError } from './errors.ts';

/** Answers at most this big are sent whole (one write); bigger ones in slices of this size. */
export const SLICE_BYTES = 64 * 1024;
const RETRY_AFTER_S = 5;

export class ResponseBudget {
  private heldBytes = 0;
  private answers = 0;

  constructor(readonly max: number) {}

  /**
   * Room for an answer of `n` bytes: its release (idempotent), or null when the answers held
   * now and this one pass the budget. An answer larger than the whole budget goes when no other
   * is held, else it could never be sent. `small` ones (one slice at most) are counted, never
   * refused: the few KB of an ordinary answer, error or health check always go.
   */
  take(n: number, small = false): (() => void) | null {
    if (!small && this.answers > 0 && this.heldBytes + n > this.max) return null;
    this.heldBytes += n;
    this.answers++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.heldBytes -= n;
      this.answers--;
    };
  }

  /** Could an answer of at least `n` bytes be held now? (To refuse before building one.) */
  fits(n: number): boolean {
    return n <= SLICE_BYTES || this.answers === 0 || this.heldBytes + n <= this.max;
  }

  /** Bytes of answers held now (not yet handed to the kernel whole). */
  get bytes(): number {
    return this.heldBytes;
  }

  /** Answers holding bytes now. */
  get size(): number {
    return this.answers;
  }
}

/** One budget per running hooklab (its Config object), shared by every route that uses it. */
const budgets = new WeakMap<Config, ResponseBudget>();

export function responseBudget(config: Config): ResponseBudget {
  let b = budgets.get(config);
  if (!b) budgets.set(config, (b = new ResponseBudget(config.maxResponseBufferBytes)));
  return b;
}

const mib = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;

/** The 503 for an answer of `n` bytes (at least) past the budget, Retry-After set. */
export function buffersFull(budget: ResponseBudget, res: Response, n: number): HttpError {
  if (!res.headersSent) res.setHeader('retry-after', String(RETRY_AFTER_S));
  return new HttpError(
    503,
    'response_buffers_full',
    `hooklab holds ${mib(budget.bytes)} of answers that their clients have not read yet, and this one (${mib(n)}) would pass MAX_RESPONSE_BUFFER_BYTES (${mib(budget.max)}); retry shortly.`,
  );
}

/** Take `n` bytes for this answer until it is sent or its connection closes; 503 with Retry-After past the budget. */
function hold(budget: ResponseBudget, res: Response, n: number): void {
  const release = budget.take(n, n <= SLICE_BYTES);
  if (!release) throw buffersFull(budget, res, n);
  res.once('finish', release);
  res.once('close', release);
}

/** Resolves once the response can take more ('drain'), or has closed (its client gone). */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Write `bytes` after the headers are set (status, content-length), slice by slice, in the
 * background: the caller is done once the bytes are held. HEAD gets none.
 */
function writeSliced(req: Request, res: Response, bytes: Buffer): void {
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  writeSlices(res, bytes).catch(() => res.destroy());
}

async function writeSlices(res: Response, bytes: Buffer): Promise<void> {
  for (let off = 0; off < bytes.length; off += SLICE_BYTES) {
    if (res.destroyed || res.writableEnded) return;
    const last = off + SLICE_BYTES >= bytes.length;
    const slice = bytes.subarray(off, off + SLICE_BYTES);
    if (last) {
      res.end(slice);
      return;
    }
    if (!res.write(slice)) await drained(res);
  }
  if (!res.writableEnded && !res.destroyed) res.end();
}

/**
 * `res.json(value)`, within MAX_RESPONSE_BUFFER_BYTES (throws 503 response_buffers_full with
 * Retry-After past it). As res.json: an ETag (the app's setting), 304 when fresh, HEAD without
 * a body. Returns once the answer is held and under way (a large one is written on as the
 * client reads).
 */
export function sendJson(req: Request, res: Response, budget: ResponseBudget, value: unknown): void {
  sendJsonText(req, res, budget, JSON.stringify(value));
}

/** sendJson of JSON already serialized. */
export function sendJsonText(req: Request, res: Response, budget: ResponseBudget, json: string): void {
  const bytes = Buffer.from(json, 'utf8');
  hold(budget, res, bytes.length);
  if (!res.getHeader('content-type')) res.setHeader('content-type', 'application/json; charset=utf-8');
  if (bytes.length <= SLICE_BYTES) {
    res.send(bytes);
    return;
  }
  const etagOf = req.app.get('etag fn') as ((body: Buffer, encoding?: string) => string | undefined) | undefined;
  if (typeof etagOf === 'function' && !res.getHeader('etag')) {
    const tag = etagOf(bytes);
    if (tag) res.setHeader('etag', tag);
  }
  if (req.fresh) {
    res.status(304);
    res.removeHeader('content-type');
    res.end();
    return;
  }
  res.setHeader('content-length', bytes.length);
  writeSliced(req, res, bytes);
}

/** `res.end(bytes)` (headers already set), within MAX_RESPONSE_BUFFER_BYTES, sliced when large. */
export function sendBytes(req: Request, res: Response, budget: ResponseBudget, bytes: Buffer): void {
  hold(budget, res, bytes.length);
  res.setHeader('content-length', bytes.length);
  if (bytes.length <= SLICE_BYTES) {
    res.end(req.method === 'HEAD' ? undefined : bytes);
    return;
  }
  writeSliced(req, res, bytes);
}
