// Baseline (a): the least a Node server can do for a webhook: node:http, read the whole
// body, answer 200 with the same tiny body hooklab's default response has. Prints
// "listening on <url>" so bench/lib/proc.ts can find it; exits on SIGTERM.
import http from 'node:http';

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    Buffer.concat(chunks);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 3 });
    res.end('ok\n');
  });
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  console.log(`bare-http listening on http://127.0.0.1:${port}`);
});

process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
