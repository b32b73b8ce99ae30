// A small keep-alive HTTP client for the sequential and parallel parts (autocannon does the
// throughput runs).
import http from 'node:http';

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function newAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, timeout: 30_000 });
}

export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string; agent?: http.Agent; timeoutMs?: number } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
    const req = http.request(
      url,
      {
        method: opts.method ?? 'POST',
        headers: { ...opts.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        agent: opts.agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`timeout: ${opts.method ?? 'POST'} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

const apiAgent = newAgent(8);

/** JSON API call; throws on a non-2xx answer. */
export async function api<T = unknown>(base: string, method: string, p: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
  const r = await request(base + p, {
    method,
    agent: apiAgent,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    timeoutMs,
  });
  const text = r.body.toString('utf8');
  if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${p}: HTTP ${r.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : null) as T;
}

/**
 * Send exactly `n` POSTs with `concurrency` in flight (keep-alive), each to urlFor(i).
 * Answers the status counts. Used to pre-fill bins and as the dispatcher's baseline.
 */
export async function fire(
  urlFor: (i: number) => string,
  n: number,
  concurrency: number,
  body: Buffer,
  headers: Record<string, string>,
): Promise<FireResult> {
  let next = 0;
  return load(() => (next < n ? urlFor(next++) : null), concurrency, body, headers);
}

export interface FireResult {
  ok: number;
  other: number;
  errors: number;
  wallMs: number;
  /** Answers by HTTP status ('error' for a failed request). */
  statuses: Record<string, number>;
}

/**
 * POST for `ms` milliseconds with `concurrency` in flight (keep-alive), each to urlFor(i):
 * a flood at whatever rate the server takes. Answers the status counts.
 */
export async function flood(
  urlFor: (i: number) => string,
  ms: number,
  concurrency: number,
  body: Buffer,
  headers: Record<string, string>,
): Promise<FireResult> {
  const end = performance.now() + ms;
  let next = 0;
  return load(() => (performance.now() < end ? urlFor(next++) : null), concurrency, body, headers);
}

async function load(nextUrl: () => string | null, concurrency: number, body: Buffer, headers: Record<string, string>): Promise<FireResult> {
  const agent = newAgent(concurrency);
  const r: FireResult = { ok: 0, other: 0, errors: 0, wallMs: 0, statuses: {} };
  const t0 = performance.now();
  const worker = async () => {
    for (let url = nextUrl(); url !== null; url = nextUrl()) {
      let key = 'error';
      try {
        const res = await request(url, { body, headers, agent });
        key = String(res.status);
        if (res.status >= 200 && res.status < 300) r.ok++;
        else r.other++;
      } catch {
        r.errors++;
      }
      r.statuses[key] = (r.statuses[key] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  r.wallMs = performance.now() - t0;
  agent.destroy();
  return r;
}
