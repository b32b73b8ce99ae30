// The CLI's connection to a hooklab server: base URL and token from flags or environment,
// JSON calls, and failures turned into one-line messages with exit codes.
import type { ApiErrorBody } from '../../shared/api.ts';

/** Exit codes: 0 done; 1 the thing waited for did not happen (timeout, gave up); 2 bad arguments; 3 cannot talk to the server. */
export const EXIT = { ok: 0, negative: 1, usage: 2, server: 3 } as const;

export class CliError extends Error {
  /**
   * `status`: the server's HTTP status, when it answered. `transient`: the server could not be
   * reached, or answered that it cannot serve now (5xx, 429, 408): trying again later can help.
   */
  constructor(
    message: string,
    readonly code: number,
    readonly detail: { status?: number; transient?: boolean } = {},
  ) {
    super(message);
  }
  get transient(): boolean {
    return this.detail.transient === true;
  }
  get status(): number | undefined {
    return this.detail.status;
  }
}

export interface Conn {
  server: string;
  token: string | null;
}

export function connOf(opts: { server?: string; token?: string }): Conn {
  // An empty value (HOOKLAB_SERVER= in a script) means "not set".
  const raw = opts.server || process.env.HOOKLAB_SERVER || 'http://localhost:8080';
  let server: string;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    server = raw.replace(/\/+$/, '');
  } catch {
    throw new CliError(`--server must be an http(s) URL, got "${raw}"`, EXIT.usage);
  }
  return { server, token: opts.token || process.env.HOOKLAB_TOKEN || null };
}

export function headers(c: Conn, extra: Record<string, string> = {}): Record<string, string> {
  return { ...(c.token ? { authorization: `Bearer ${c.token}` } : {}), ...extra };
}

/** A bin given as its id or its receiver URL. */
export function binIdOf(arg: string): string {
  const m = /\/h\/([A-Za-z0-9_-]+)/.exec(arg);
  const id = m ? m[1] : arg;
  if (!/^[A-Za-z0-9_-]{4,64}$/.test(id)) throw new CliError(`"${arg}" is not a bin id or receiver URL`, EXIT.usage);
  return id;
}

/** fetch, with connection failures and error answers as CliErrors (`ok` statuses pass). */
export async function call(c: Conn, method: string, path: string, init: { body?: BodyInit; type?: string; ok?: number[] } = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(c.server + path, {
      method,
      headers: headers(c, init.type ? { 'content-type': init.type } : {}),
      body: init.body,
      duplex: 'half',
    } as RequestInit);
  } catch (e) {
    const c0 = (e as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
    const cause = c0?.code ?? c0?.errors?.[0]?.code ?? c0?.message ?? (e as Error).message;
    throw new CliError(`cannot reach hooklab at ${c.server} (${cause})`, EXIT.server, { transient: true });
  }
  if (res.ok || init.ok?.includes(res.status)) return res;
  throw await errorOf(res, c);
}

export async function errorOf(res: Response, c: Conn): Promise<CliError> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as ApiErrorBody;
    if (body?.error?.message) message = body.error.message;
  } catch {
    // not JSON
  }
  const detail = { status: res.status, transient: res.status >= 500 || res.status === 429 || res.status === 408 };
  // (The token itself is never part of a message.)
  if (res.status === 401) {
    const what = c.token ? 'refused the access token given (--token or HOOKLAB_TOKEN)' : 'wants an access token: pass --token or set HOOKLAB_TOKEN';
    return new CliError(`${c.server} ${what} (${message})`, EXIT.server, detail);
  }
  if (res.status === 404) return new CliError(`not found: ${message}`, EXIT.server, detail);
  return new CliError(message, EXIT.server, detail);
}

export async function callJson<T>(c: Conn, method: string, path: string, body?: unknown): Promise<T> {
  const res = await call(c, method, path, body === undefined ? {} : { body: JSON.stringify(body), type: 'application/json' });
  return (await res.json()) as T;
}
