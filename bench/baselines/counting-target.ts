// A forward target for the forward benchmark: bare node:http (as baselines/bare-http.ts: read
// the body, answer 200 "ok\n") that also counts what it received, per first path segment
// ("/x/..." counts under "/x"), with the time of the last arrival on CLOCK_MONOTONIC in
// microseconds (the clock `process.hrtime` reads in every process on the machine).
//   GET  /__count  -> {"counts": {"/x": 123, ...}, "lastUs": {"/x": 456789, ...}}
//   POST /__reset  -> clears both
// Prints "listening on <url>" so bench/lib/proc.ts can find it; exits on SIGTERM.
import http from 'node:http';

let counts: Record<string, number> = {};
let lastUs: Record<string, number> = {};

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    Buffer.concat(chunks);
    const url = req.url ?? '/';
    if (url === '/__count' && req.method === 'GET') {
      const body = JSON.stringify({ counts, lastUs });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (url === '/__reset' && req.method === 'POST') {
      counts = {};
      lastUs = {};
      res.writeHead(204);
      res.end();
      return;
    }
    const key = '/' + (url.split('?')[0].split('/')[1] ?? '');
    counts[key] = (counts[key] ?? 0) + 1;
    lastUs[key] = Number(process.hrtime.bigint() / 1000n);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 3 });
    res.end('ok\n');
  });
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  console.log(`counting-target listening on http://127.0.0.1:${port}`);
});

process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
