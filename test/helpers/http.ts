// Raw HTTP for tests that care about exact bytes, header case and connection behaviour.
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** As on the wire: names in their case, in order, repeats kept. */
  rawHeaders: string[];
  body: Buffer;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string> | [string, string][];
  body?: Buffer | string;
  /** Send the body in pieces with no content-length (chunked). */
  chunked?: boolean;
  timeoutMs?: number;
}

export function send(url: string, r: RawRequest = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    // The raw (array) form keeps case, order and repeats; Node then adds no Host itself.
    const headers = Array.isArray(r.headers) ? [['Host', u.host], ...r.headers].flat() : r.headers;
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: r.method ?? 'POST', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    if (r.timeoutMs) req.setTimeout(r.timeoutMs, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })));
    req.on('error', reject);
    const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    if (body && r.chunked) {
      const mid = Math.floor(body.length / 2);
      req.write(body.subarray(0, mid));
      req.end(body.subarray(mid));
    } else {
      req.end(body);
    }
  });
}

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A JSON API call with fetch: status and parsed body (null when empty). */
export async function api<T = unknown>(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/**
 * Send request bytes as written (a chunked body with trailers, odd heads) over a raw socket to
 * `base`, and answer the capture's id from the reply (the request must say Connection: close).
 */
export function rawCapture(base: string, head: string): Promise<string> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname);
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => {
      const id = /\r\nx-hooklab-request-id: (\S+)\r\n/i.exec(out)?.[1];
      if (id) resolve(id);
      else reject(new Error(`no capture: ${out.slice(0, 200)}`));
    });
    // Not half-closed: a proxied answer comes after the target's (Node drops a half-closed
    // connection's pending answer); the server closes once it has answered (Connection: close).
    s.write(Buffer.from(head, 'latin1'));
  });
}
