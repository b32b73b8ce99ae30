// MAX_HEADER_COUNT's refusal: 431 with a JSON body saying which limit (Node's own 431, for
// MAX_HEADER_BYTES, has no body). The server answers it for headers (http/server.ts); the
// receiver for trailers, which come at the body's end and are stored with the headers; the live
// view's handshakes (app.ts: Socket.IO takes those requests before the server's handler).
import type http from 'node:http';

/** Header fields (and trailer fields, once the body has ended) past MAX_HEADER_COUNT. */
export function overHeaderCount(req: http.IncomingMessage, max: number): boolean {
  return req.rawHeaders.length + req.rawTrailers.length > 2 * max;
}

/** What a 431 too_many_headers says. */
export function tooManyHeadersMessage(max: number, trailers = false): string {
  return `The request has more than ${max} ${trailers ? 'header and trailer fields' : 'headers'} (MAX_HEADER_COUNT).`;
}

/** Answer 431 too_many_headers and ask for the connection to close (see closeAfterAnswer). */
export function tooManyHeaders(res: http.ServerResponse, max: number, trailers = false) {
  const body = JSON.stringify({ error: { code: 'too_many_headers', message: tooManyHeadersMessage(max, trailers) } });
  res.writeHead(431, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}
