// A forward target for tests: a bare node:http server on 127.0.0.1 that keeps what it got
// (method, URL, raw headers, body) and answers as told (default: 200 "thanks").
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Got {
  method: string;
  url: string;
  headers: string[];
  body: Buffer;
}

export interface RecordingTarget {
  base: string;
  got: Got[];
  /** How the next requests are answered (after their body was read). */
  answer: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;
  close(): void;
}

export async function recordingTarget(answer: RecordingTarget['answer'] = (_q, res) => res.end('thanks')): Promise<RecordingTarget> {
  const t = { got: [] as Got[], answer } as RecordingTarget;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      t.got.push({ method: req.method!, url: req.url!, headers: req.rawHeaders, body });
      t.answer(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.close = () => {
    server.closeAllConnections();
    server.close();
  };
  return t;
}
