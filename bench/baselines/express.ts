// Baseline (b): a plain Express 5 app that reads the body and answers 200: what the
// receiver would cost if it were an ordinary Express route (router + body parser).
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.post('/h/{*rest}', express.raw({ type: () => true, limit: '1mb' }), (req, res) => {
  void (req.body as Buffer).length;
  res.status(200).type('text/plain').send('ok\n');
});

const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  console.log(`express listening on http://127.0.0.1:${port}`);
});

process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
