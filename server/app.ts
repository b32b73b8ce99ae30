// createApp(deps) builds the whole server without listening and without globals, so tests
// build as many as they like. Receiver URLs are answered by node:http directly (the hot
// path); everything else goes through Express; Socket.IO shares the same port.
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Server } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../shared/api.ts';
import { RECEIVER_PREFIX } from '../shared/api.ts';
import { binsRouter } from './api/bins.ts';
import type { ApiContext } from './api/context.ts';
import { dispatchRouter } from './api/dispatch.ts';
import { requestsRouter } from './api/requests.ts';
import { responseRouter } from './api/response.ts';
import { webhooksRouter } from './api/webhooks.ts';
import { RateLimiter } from './capture/rate-limit.ts';
import { createReceiver } from './capture/receiver.ts';
import type { Config } from './config.ts';
import { ResponseControl } from './control/controller.ts';
import { parseAllowList } from './dispatch/allow.ts';
import { VirtualClock } from './dispatch/clock.ts';
import { Dispatcher } from './dispatch/dispatcher.ts';
import { type Send, createSender } from './dispatch/send.ts';
import { authRoutes, requireToken, tokenFrom, tokenMatches } from './http/auth.ts';
import { createHostGuard } from './http/host-guard.ts';
import { HttpError } from './http/errors.ts';
import { newId, sortableIdFactory } from './ids.ts';
import { type LiveBus, SocketBus } from './live/bus.ts';
import { jsonOnlyParser } from './live/parser.ts';
import { attachLiveHandlers } from './live/socket.ts';
import { type Logger, silentLogger } from './log.ts';
import type { Store } from './store/types.ts';

export const VERSION = '0.1.0';
export const USER_AGENT = `hooklab-dispatcher/${VERSION} (+self-hosted webhook test harness)`;

export interface AppDeps {
  config: Config;
  store: Store;
  log?: Logger;
  /** Wall clock (ms). The dispatcher's virtual clock is built on it. */
  now?: () => number;
  /** Uniform [0, 1): seeds and payload ids. */
  random?: () => number;
  /** Replace the HTTP sender (only where the real one cannot run). */
  send?: Send;
  /** Built UI to serve; null for none. Default: dist/client when it exists. */
  staticDir?: string | null;
}

export interface HooklabApp {
  server: http.Server;
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  dispatcher: Dispatcher;
  clock: VirtualClock;
  control: ResponseControl;
  live: LiveBus;
  /** Listen on config.host:config.port (0 = any); answers the base URL. */
  listen(): Promise<string>;
  /** Stop accepting, drop connections, flush storage. */
  close(): Promise<void>;
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

function securityHeaders(_req: Request, res: Response, next: NextFunction) {
  res.setHeader('content-security-policy', CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  next();
}

export async function createApp(deps: AppDeps): Promise<HooklabApp> {
  const { config, store } = deps;
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;

  // The request listener must exist before Socket.IO attaches: it wraps the listeners it
  // finds and routes /socket.io/ itself. The real handler is filled in below.
  let handle: http.RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const httpServer = http.createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // Node checks those timeouts on this interval (default 30 s): keep it proportionate.
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(Math.min(config.headersTimeoutMs, config.requestTimeoutMs) / 4))),
      maxHeaderSize: config.maxHeaderBytes,
    },
    (req, res) => handle(req, res),
  );
  // Without a token, only our own host names (see host-guard.ts); with one, the token decides.
  const hostGuard = config.authToken ? null : createHostGuard({ publicUrl: config.publicUrl, host: config.host, extra: config.allowedHosts });
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(httpServer, {
    serveClient: false,
    parser: jsonOnlyParser,
    allowRequest: (req, cb) => {
      const ok = !hostGuard || hostGuard.allows(req);
      cb(ok ? null : 'forbidden host or origin', ok);
    },
  });
  const live = new SocketBus(io);

  const clock = new VirtualClock(now, await store.getClock());
  const sender = deps.send
    ? { send: deps.send, close() {} }
    : createSender({ maxResponseBytes: config.dispatchMaxResponseBytes, allow: config.dispatchAllow ? parseAllowList(config.dispatchAllow) : null });
  const dispatcher = new Dispatcher({
    store,
    clock,
    realNow: now,
    send: sender.send,
    live,
    schedule: config.schedule,
    timeoutMs: config.dispatchTimeoutMs,
    concurrency: config.dispatchConcurrency,
    userAgent: USER_AGENT,
    newDeliveryId: sortableIdFactory(now, 'dl_'),
    newMessageId: () => newId('msg'),
    newRunId: () => newId('run'),
    random,
    onError: (err) => log.error('dispatcher error', { error: String(err) }),
  });
  const control = new ResponseControl(
    store,
    live,
    { maxDelayMs: config.maxDelayMs, maxBodyChars: 256 * 1024, maxSteps: 200, maxRules: 50 },
    () => Math.floor(random() * 2 ** 32),
  );
  await control.load();

  const rateLimiter = config.rateLimitPerBin > 0 ? new RateLimiter(config.rateLimitPerBin) : null;
  const receive = createReceiver(
    {
      store,
      control,
      live,
      newRequestId: sortableIdFactory(now),
      now,
      maxBodyBytes: config.maxBodyBytes,
      maxRequestsPerBin: config.maxRequestsPerBin,
      hangTimeoutMs: config.hangTimeoutMs,
      trustProxy: config.trustProxy,
      rateLimiter,
    },
    RECEIVER_PREFIX,
  );

  const ctx: ApiContext = { config, store, control, dispatcher, live, rateLimiter, now };
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(securityHeaders);
  app.get('/api/health', (_req, res) => {
    res.json({ ok: true, version: VERSION });
  });
  if (hostGuard) {
    app.use((req, res, next) => {
      if (hostGuard.allows(req)) return next();
      res.status(403).json({ error: { code: 'forbidden_host', message: hostGuard.reason } });
    });
  }
  if (config.authToken) {
    app.use(authRoutes(config.authToken));
    app.use(requireToken(config.authToken));
  }
  app.use('/api', express.json({ limit: '1mb' }));
  app.use('/api', binsRouter(ctx), requestsRouter(ctx), responseRouter(ctx), webhooksRouter(ctx), dispatchRouter(ctx));
  app.use('/api', () => {
    throw new HttpError(404, 'not_found', 'no such API route');
  });

  const staticDir = deps.staticDir === undefined ? path.resolve(import.meta.dirname, '../dist/client') : deps.staticDir;
  if (staticDir && existsSync(path.join(staticDir, 'index.html'))) {
    app.use(express.static(staticDir, { index: false, maxAge: '1h', setHeaders: noCacheHtml }));
    // Client-side routes (/bins/<id>, /dispatcher) load the app shell.
    app.get('/{*path}', (_req, res) => {
      res.setHeader('cache-control', 'no-cache');
      res.sendFile(path.join(staticDir, 'index.html'));
    });
  } else {
    app.get('/', (_req, res) => {
      res.type('text').send('hooklab API is running. The UI is not built: run `npm run build` (npm start does it).\n');
    });
  }

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      res.status(err.status).json(err.toBody());
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'invalid_json', message: `body is not valid JSON: ${e.message}` } });
    } else if (e.type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'too_large', message: 'request body is larger than 1 MB' } });
    } else if (e.status && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: { code: 'bad_request', message: e.message ?? 'bad request' } });
    } else {
      log.error('unhandled API error', { error: String(err) });
      res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
    }
  });

  if (config.authToken) {
    const token = config.authToken;
    io.use((socket, next) => {
      const given = (socket.handshake.auth as { token?: string } | undefined)?.token ?? tokenFrom(socket.request);
      if (tokenMatches(given, token)) next();
      else next(new Error('unauthorized'));
    });
  }
  attachLiveHandlers(io, { store, maxBackfill: config.maxRequestsPerBin });

  handle = (req, res) => {
    if (req.url?.startsWith(RECEIVER_PREFIX)) void receive(req, res);
    else app(req, res);
  };

  await dispatcher.start();

  let closed: Promise<void> | null = null;
  return {
    server: httpServer,
    io,
    dispatcher,
    clock,
    control,
    live,
    listen: () =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off('error', reject);
          const a = httpServer.address();
          const port = typeof a === 'object' && a ? a.port : config.port;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          const base = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
          if (config.publicUrlDefaulted) config.publicUrl = `http://localhost:${port}`;
          resolve(base);
        });
      }),
    close() {
      closed ??= (async () => {
        dispatcher.stop();
        live.close();
        await new Promise<void>((resolve) => {
          io.close(() => resolve()); // also closes the HTTP server
          httpServer.closeAllConnections();
        });
        sender.close();
        await store.close();
      })();
      return closed;
    },
  };
}

function noCacheHtml(res: Response, file: string) {
  if (file.endsWith('.html')) res.setHeader('cache-control', 'no-cache');
}
