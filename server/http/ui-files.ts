// The built UI: its files (the build's Brotli or gzip copies to browsers that take them), and
// the app shell for client-side routes (/bins/<id>, /dispatcher).
import path from 'node:path';
import type http from 'node:http';
import express, { Router } from 'express';
import expressStaticGzip from 'express-static-gzip';

export function uiFiles(staticDir: string): Router {
  const r = Router();
  // (It lists the compressed copies once, at start: a file built since goes as built.)
  const serveStatic = { index: false, maxAge: '1h', setHeaders: cacheHeaders } as const;
  const files = expressStaticGzip(staticDir, { index: false, enableBrotli: true, orderPreference: ['br', 'gz'], serveStatic });
  const asBuilt = express.static(staticDir, serveStatic);
  r.use((req, res, next) => {
    // Only GET and HEAD are files; anything else goes on without their headers.
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    files(req, res, (err?: unknown) => {
      if (err || res.headersSent || !res.getHeader('content-encoding')) return next(err);
      // Its compressed copy was not there (gone since start, say: mid-rebuild): the file as
      // built, if it is, without what was set for the copy (Content-Encoding, its type),
      // which must not label whatever answers instead.
      res.removeHeader('content-encoding');
      res.removeHeader('content-type');
      asBuilt(req, res, next);
    });
  });
  // A built file that is not there: 404, not the app shell (a tab from an older build loading
  // a chunk by its old name would get HTML as a script).
  r.get('/assets/{*path}', (_req, res) => {
    res.setHeader('cache-control', 'no-cache');
    res.status(404).type('text').send('not found: this file is not in the current build (reload the page)\n');
  });
  r.get('/{*path}', (_req, res) => {
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(path.join(staticDir, 'index.html'));
  });
  return r;
}

function cacheHeaders(res: http.ServerResponse, file: string) {
  // (A compressed copy's name ends in .gz or .br.)
  if (/\.html(\.gz|\.br)?$/.test(file)) res.setHeader('cache-control', 'no-cache');
  // Vite names what it builds under assets/ by content hash (a new build, new names).
  else if (/[\\/]assets[\\/]/.test(file)) res.setHeader('cache-control', 'public, max-age=31536000, immutable');
}
