// The CLI's connection to a hooklab server: base URL and token from flags or environment,
// JSON calls, and failures turned into one-line messages with exit codes.
import { Agent, type Dispatcher } from 'undici';
import type { ApiErrorBody } from '../../shared/api.ts';
import { serverUrlProblem, withoutUserInfo } from './server-url.ts';
import { cleanToken, withoutToken } from './token.ts';

/**
 * Exit codes: 0 done; 1 the thing waited for did not happen (timeout, gave up); 2 the user's to
 * fix: bad arguments, what the server refused to take (an unknown bin, a taken id, a bad file:
 * any 4xx but those below) and local file problems; 3 cannot talk to the server: unreachable,
 * an error of its own or busy (5xx, 429, 408), or it refused access (401, 403: the token).
 */
export const EXIT = { ok: 0, negative: 1, usage: 2, server: 3 } as const;

/** The exit code of an error answer with this status (see EXIT). */
export function exitOfStatus(status: number): number {
  if (status === 401 || status === 403 || status === 408 || status === 429) return EXIT.server;
  if (status >= 400 && status < 500) return EXIT.usage;
  return EXIT.server;
}

const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'it exists already',
  EMFILE: 'too many open files',
  EFBIG: 'file too large',
  EIO: 'input/output error',
};

/** A local file that cannot be read or written: the user's to fix (exit 2), said with the file and the problem. */
export function fileError(file: string, action: string, e: unknown): CliError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const why = code && FILE_PROBLEMS[code] ? `${FILE_PROBLEMS[code]} (${code})` : e instanceof Error ? e.message : String(e);
  return new CliError(`cannot ${action} ${file}: ${why}`, EXIT.usage);
}

/** An error of the file system (it names a path), as opposed to one of the network. */
export function isFileSystemError(e: unknown): e is NodeJS.ErrnoException & { path: string } {
  const x = e as NodeJS.ErrnoException | null;
  return !!x && typeof x.code === 'string' && typeof x.path === 'string' && typeof x.syscall === 'string';
}

export class CliError extends Error {
  /**
   * `status`: the server's HTTP status, when it answered. `transient`: the server could not be
   * reached, or answered that it cannot serve now (5xx, 429, 408): trying again later can help.
   */
  constructor(
    message: string,
    readonly code: number,
    readonly detail: { status?: number; apiCode?: string; transient?: boolean; retryAfterMs?: number; aborted?: boolean; connectionLost?: boolean } = {},
  ) {
    super(message);
  }
  get transient(): boolean {
    return this.detail.transient === true;
  }
  get status(): number | undefined {
    return this.detail.status;
  }
  /** The error's code in the server's answer (`not_found`, `bin_deleted`, …), when it gave one. */
  get apiCode(): string | undefined {
    return this.detail.apiCode;
  }
  /** The call was ended by its caller's signal (see call's `signal`). */
  get aborted(): boolean {
    return this.detail.aborted === true;
  }
  /**
   * The server could not be reached or the connection broke (refused, reset, closed, timed out):
   * no answer came at all, as opposed to an answer saying it is busy.
   */
  get connectionLost(): boolean {
    return this.detail.connectionLost === true;
  }
  /** The server's Retry-After (in seconds) as ms, when it sent one. */
  get retryAfterMs(): number | undefined {
    return this.detail.retryAfterMs;
  }
}

export interface Conn {
  server: string;
  token: string | null;
  /** Where `server` came from, as the user would name it (--server, HOOKLAB_SERVER, the receiver URL); unset: the default. */
  from?: string;
}

export function connOf(opts: { server?: string; token?: string; serverFrom?: string; tokenFrom?: string }): Conn {
  // An empty value (HOOKLAB_SERVER= in a script) means "not set".
  const fromEnv = !opts.server && !!process.env.HOOKLAB_SERVER;
  const raw = opts.server || process.env.HOOKLAB_SERVER || 'http://localhost:8080';
  const from = fromEnv ? 'HOOKLAB_SERVER' : opts.server ? opts.serverFrom : undefined;
  let u: URL;
  try {
    u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    // Named as the user gave it: HOOKLAB_SERVER=notaurl was told as "--server must be …".
    throw new CliError(`${from ?? '--server'} must be an http(s) URL, got "${withoutUserInfo(raw)}"`, EXIT.usage);
  }
  const problem = serverUrlProblem(u, from ?? '--server');
  if (problem) throw new CliError(problem, EXIT.usage);
  const server = raw.replace(/\/+$/, '');
  // Read once, here, for every command: a CR left in (a CRLF file) hung tail and forward.
  const tokenFrom = opts.token ? (opts.tokenFrom ?? '--token') : 'HOOKLAB_TOKEN';
  let token: string | null;
  try {
    token = cleanToken(opts.token || process.env.HOOKLAB_TOKEN, tokenFrom);
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.usage);
  }
  return { server, token, ...(from ? { from } : {}) };
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

/** How long a call (without a body) waits in silence, by default, before it counts as unreachable. */
export const DEFAULT_QUIET_MS = 30_000;

/** fetch, with connection failures and error answers as CliErrors (`ok` statuses pass). */
export async function call(
  c: Conn,
  method: string,
  path: string,
  init: {
    body?: BodyInit;
    type?: string;
    ok?: number[];
    dispatcher?: Dispatcher;
    /**
     * End the call, as unreachable, once nothing has come for this long (the answer's head,
     * or the next bytes of its body: a large answer on a slow link still arrives): a connection
     * that died without a word (a Wi-Fi roam, a NAT that forgot it) otherwise holds it for
     * undici's 300 s. Not for a call that waits on purpose (hooklab wait).
     */
    timeoutMs?: number;
    /** Ends the call early, as unreachable, with `aborted` set (the caller knows why). */
    signal?: AbortSignal;
  } = {},
): Promise<Response> {
  const signal = init.signal;
  // A call ends after DEFAULT_QUIET_MS of silence unless told otherwise: `bin new` against a
  // server that accepts and never answers hung for undici's 300 s. (An upload streamed from a
  // file, an import, may keep a busy server working longer before its answer: undici's.)
  const quiet = init.timeoutMs ?? (init.body instanceof ReadableStream ? undefined : DEFAULT_QUIET_MS);
  const dispatcher = init.dispatcher ?? (quiet ? quietAfter(quiet) : undefined);
  let res: Response;
  try {
    res = await fetch(c.server + path, {
      method,
      headers: headers(c, init.type ? { 'content-type': init.type } : {}),
      body: init.body,
      duplex: 'half',
      // A call that may take long (hooklab wait) brings its own timeouts: undici's defaults
      // (300 s for the answer's headers) would end it first.
      ...(dispatcher ? { dispatcher } : {}),
      ...(signal ? { signal } : {}),
    } as RequestInit);
  } catch (e) {
    throw unreachable(c, e, { ...init, timeoutMs: quiet });
  }
  if (res.ok || init.ok?.includes(res.status)) {
    // A web page where hooklab's API should be: a wrong --server (a path prefix, another app).
    const type = mediaType(res);
    if (res.ok && type && !JSON_TYPE.test(type)) {
      await res.body?.cancel();
      throw notHooklab(c, res, type);
    }
    return res;
  }
  throw await errorOf(res, c);
}

/** What hooklab's API answers with: JSON, NDJSON (exports). */
const JSON_TYPE = /^application\/(json|x-ndjson)$|\+json$/;

function mediaType(res: Response): string {
  return (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * An answer that is not from hooklab's API (a web page, another app's error): the server named
 * is not hooklab, or not where hooklab's API is. Exit 3 (cannot talk to hooklab), said once.
 */
function notHooklab(c: Conn, res: Response, type: string): CliError {
  const u = new URL(res.url || c.server);
  const what = res.ok ? type : `${res.status}${res.statusText ? ` ${res.statusText}` : ''}${type ? ` (${type})` : ''}`;
  const which = c.from ?? '--server (or HOOKLAB_SERVER)';
  return new CliError(`${u.origin}${u.pathname} answered ${what}, not hooklab's JSON API: is ${which} right?`, EXIT.server);
}

/**
 * Connections whose calls end once nothing has come for `ms` (the answer's head, or the next
 * bytes of its body), however long a large answer takes to arrive: one per `ms`.
 */
const quietAgents = new Map<number, Agent>();
function quietAfter(ms: number): Agent {
  let a = quietAgents.get(ms);
  if (!a) quietAgents.set(ms, (a = new Agent({ headersTimeout: ms, bodyTimeout: ms })));
  return a;
}

/** A call (or the reading of its answer) that failed on the way: the server is unreachable for now (transient). */
export function unreachable(c: Conn, e: unknown, init: { timeoutMs?: number; signal?: AbortSignal } = {}): CliError {
  if (init.signal?.aborted) {
    const why = init.signal.reason instanceof Error ? init.signal.reason.message : String(init.signal.reason ?? 'aborted');
    return new CliError(`cannot reach hooklab at ${c.server} (${why})`, EXIT.server, { transient: true, aborted: true });
  }
  const c0 = (e as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
  if (init.timeoutMs && (c0?.code === 'UND_ERR_HEADERS_TIMEOUT' || c0?.code === 'UND_ERR_BODY_TIMEOUT')) {
    return new CliError(`cannot reach hooklab at ${c.server} (nothing came for ${init.timeoutMs / 1000} s)`, EXIT.server, { transient: true, connectionLost: true });
  }
  const code = c0?.code ?? c0?.errors?.[0]?.code;
  // Another library's words may quote what was sent (undici's for a bad header quotes its value).
  const cause = (code && CONNECTION_PROBLEMS[code]) ?? code ?? withoutToken(c0?.message ?? (e as Error).message, c.token);
  return new CliError(`cannot reach hooklab at ${c.server} (${cause})`, EXIT.server, { transient: true, connectionLost: code !== undefined && PASSING.has(code) });
}

/**
 * Connection problems that pass (a server restarting, a network outage): `wait` asks again for
 * the rest of its timeout. Not a host name that does not exist or a certificate refused: asking
 * again cannot help, and the wait fails at once.
 */
const PASSING = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * undici's and the system's codes for a connection that failed, in words: the system's keep
 * their code (what one searches for), undici's own (UND_ERR_SOCKET) say nothing to a user.
 */
const CONNECTION_PROBLEMS: Record<string, string> = {
  ECONNREFUSED: 'connection refused, ECONNREFUSED',
  ECONNRESET: 'the connection was reset, ECONNRESET',
  EPIPE: 'the connection was closed, EPIPE',
  ETIMEDOUT: 'the connection timed out, ETIMEDOUT',
  EHOSTUNREACH: 'no route to the host, EHOSTUNREACH',
  ENETUNREACH: 'the network is unreachable, ENETUNREACH',
  ENOTFOUND: 'no such host, ENOTFOUND',
  EAI_AGAIN: 'the host name could not be looked up now, EAI_AGAIN',
  UND_ERR_SOCKET: 'the connection was closed',
  UND_ERR_CLOSED: 'the connection was closed',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer came in time',
  UND_ERR_BODY_TIMEOUT: 'the answer stopped coming',
};

/** The server's own "bin not found" (a 404 of another server is not one). */
export function isNoSuchBin(e: unknown): e is CliError {
  return e instanceof CliError && e.status === 404 && /\bbin not found\b/.test(e.message);
}

/** A "bin not found" said with the bin and the server (was "not found: bin not found"); other errors as they are. */
export function noSuchBin(e: unknown, binId: string, c: Conn): unknown {
  return isNoSuchBin(e) ? new CliError(`there is no bin ${binId} on ${c.server}`, e.code, { status: 404, ...(e.apiCode ? { apiCode: e.apiCode } : {}) }) : e;
}

/** Statuses that say the same from hooklab, Node or a proxy in front (see errorOf). */
const KEPT_AS_IS = new Set([408, 413, 414, 429, 431]);

/**
 * A 5xx that is not hooklab's JSON is a proxy or CDN in front while hooklab restarts (502-504,
 * Cloudflare's 520-524, ...): down for now. Except these, which only another server sends to
 * hooklab's routes (a static file server's 501 to a POST).
 */
const NOT_HOOKLAB_5XX = new Set([501, 505]);

export async function errorOf(res: Response, c: Conn): Promise<CliError> {
  // The server's words are quoted below: masked here, where they come in (a server that echoes
  // the Authorization header would quote the token), not in hooklab's own wording around them.
  let message = withoutToken(`${res.status} ${res.statusText}`, c.token);
  let apiCode: string | undefined;
  let hooklabs = false;
  try {
    const body = (await res.json()) as ApiErrorBody;
    if (body?.error?.message) message = withoutToken(body.error.message, c.token);
    if (typeof body?.error?.code === 'string') apiCode = body.error.code;
    hooklabs = typeof body?.error?.message === 'string';
  } catch {
    // not JSON
  }
  // Every refusal and failure of hooklab's API is its error JSON: any other 4xx (a proxy's 404
  // page, another app's login form), or a 501/505 (another server's answer to a POST), is not
  // hooklab's. Kept as they are: other 5xx (see NOT_HOOKLAB_5XX: down for now, which forward,
  // tail and wait wait out), a 429 or 408, and a request too large for Node or a proxy (413,
  // 414, 431: their own bare answers), which the relay answers by asking for fewer captures at
  // a time.
  const foreign = res.status < 500 ? !KEPT_AS_IS.has(res.status) : NOT_HOOKLAB_5XX.has(res.status);
  if (!hooklabs && foreign) return notHooklab(c, res, mediaType(res));
  const ra = res.headers.get('retry-after')?.trim();
  const retryAfter = ra ? Number(ra) : NaN;
  const detail = {
    status: res.status,
    ...(apiCode !== undefined && { apiCode }),
    transient: res.status >= 500 || res.status === 429 || res.status === 408,
    ...(Number.isInteger(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
  };
  // (The token itself is never part of a message.)
  if (res.status === 401) {
    const what = c.token ? 'refused the access token given (--token or HOOKLAB_TOKEN)' : 'wants an access token: pass --token or set HOOKLAB_TOKEN';
    return new CliError(`${c.server} ${what} (${message})`, EXIT.server, detail);
  }
  const code = exitOfStatus(res.status);
  if (res.status === 404) return new CliError(`not found: ${message}`, code, detail);
  // The server's own failure, or it is busy: said as such, not taken for a mistake in the arguments.
  if (code === EXIT.server) return new CliError(`hooklab at ${c.server} answered ${res.status} (${message})`, code, detail);
  return new CliError(message, code, detail);
}

export async function callJson<T>(c: Conn, method: string, path: string, body?: unknown): Promise<T> {
  const res = await call(c, method, path, body === undefined ? {} : { body: JSON.stringify(body), type: 'application/json' });
  return readJson<T>(res, c);
}

/** An answer's JSON body; one cut short (the connection lost while it came) is said as such, exit 3. */
export async function readJson<T>(res: Response, c: Conn): Promise<T> {
  try {
    return (await res.json()) as T;
  } catch (e) {
    if (e instanceof SyntaxError) throw new CliError(`hooklab at ${c.server} sent an answer that is not whole JSON (cut short?)`, EXIT.server, { transient: true });
    throw unreachable(c, e);
  }
}
