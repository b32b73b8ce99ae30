// A bin's captures in and out: NDJSON (one capture per line, everything kept, the body in
// base64, so a round trip is byte-exact) and HAR 1.2 (for browsers' and other tools' viewers;
// hooklab's own details, chunked trailers among them, ride along in `_hooklab` and `_encoding`,
// which HAR allows).
import { isUtf8 } from 'node:buffer';
import type { z } from 'zod';
import type { AnswerOutcome } from '../../shared/api.ts';
import { RECEIVER_PREFIX } from '../../shared/api.ts';
import { type ExportLine, type HarImport, formBody } from '../../shared/schema/exchange.ts';
import type { CapturedRequest, StoredRequest } from '../store/types.ts';
import { flatHeaderValue, pairs, parseQuery } from './view.ts';

type Line = z.infer<typeof ExportLine>;
type HarEntry = z.infer<typeof HarImport>['log']['entries'][number];

/** What an import adds: a capture without its new id and bin. */
export type Imported = Omit<CapturedRequest, 'id' | 'binId'>;

export function toExportLine(r: StoredRequest, body: Buffer): Line {
  return {
    id: r.id,
    method: r.method,
    path: r.path,
    queryString: r.queryString,
    headers: pairs(r.headers),
    ...(r.trailers?.length ? { trailers: pairs(r.trailers) } : {}),
    ip: r.ip,
    receivedAt: r.receivedAt,
    size: r.size,
    truncated: r.truncated,
    contentType: r.contentType,
    answer: r.answer,
    body: body.toString('base64'),
  };
}

export function fromExportLine(l: Line): Imported {
  const body = Buffer.from(l.body, 'base64');
  return {
    method: l.method,
    path: l.path,
    queryString: l.queryString,
    headers: l.headers.flat(),
    ...(l.trailers?.length ? { trailers: l.trailers.flat() } : {}),
    ip: l.ip,
    receivedAt: new Date(l.receivedAt).toISOString(),
    size: Math.max(l.size, body.length),
    truncated: l.truncated,
    storedBytes: body.length,
    contentType: l.contentType,
    answer: l.answer,
    body,
  };
}

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 400: 'Bad Request', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

export function toHarEntry(r: StoredRequest, body: Buffer, receiverBase: string) {
  const url = `${receiverBase}${RECEIVER_PREFIX}${r.binId}${r.path}${r.queryString ? `?${r.queryString}` : ''}`;
  const text = isUtf8(body);
  const query = parseQuery(r.queryString);
  return {
    startedDateTime: r.receivedAt,
    time: 0,
    request: {
      method: r.method,
      url,
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: pairs(r.headers).map(([name, value]) => ({ name, value })),
      queryString: Object.entries(query).flatMap(([name, v]) => (Array.isArray(v) ? v : [v]).map((value) => ({ name, value }))),
      ...(body.length || r.method !== 'GET'
        ? // No type when the request gave none ('' for HAR's required field): one made up here would come back as sent.
          { postData: { mimeType: r.contentType ?? '', text: text ? body.toString('utf8') : body.toString('base64'), ...(text ? {} : { _encoding: 'base64' }) } }
        : {}),
      headersSize: -1,
      bodySize: r.size,
    },
    response: {
      status: r.answer.status ?? 0,
      statusText: r.answer.status === null ? '' : (STATUS_TEXT[r.answer.status] ?? ''),
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: [],
      content: { size: 0, mimeType: '' },
      redirectURL: '',
      headersSize: -1,
      bodySize: -1,
      ...(r.answer.fault ? { _error: r.answer.fault } : {}),
    },
    cache: {},
    timings: { send: 0, wait: r.answer.delayMs, receive: 0 },
    _hooklab: {
      id: r.id,
      ip: r.ip,
      path: r.path,
      answer: r.answer,
      truncated: r.truncated,
      ...(r.trailers?.length ? { trailers: pairs(r.trailers).map(([name, value]) => ({ name, value })) } : {}),
    },
  };
}

export function harHead(version: string): string {
  return `{"log":{"version":"1.2","creator":{"name":"hooklab","version":${JSON.stringify(version)}},"entries":[`;
}
/** The end of a HAR export; `comment`, when given, is its log's (HAR 1.2 `log.comment`). */
export function harTail(comment?: string): string {
  return comment ? `],"comment":${JSON.stringify(comment)}}}` : ']}}';
}

const IMPORTED_ANSWER = (status: number | null): AnswerOutcome => ({ status, delayMs: 0, fault: null, source: 'default', index: null, roll: null });

export function fromHarEntry(e: HarEntry): Imported {
  const u = new URL(e.request.url);
  // A hooklab receiver URL: the path below the bin; anything else: the whole path.
  let path = e._hooklab?.path ?? u.pathname;
  if (!e._hooklab?.path && u.pathname.startsWith(RECEIVER_PREFIX)) {
    const rest = u.pathname.slice(RECEIVER_PREFIX.length);
    const slash = rest.indexOf('/');
    path = slash === -1 ? '/' : rest.slice(slash);
  }
  const pd = e.request.postData;
  // A form given by its fields instead of its text (HAR 1.2 allows it; the schema lets only a urlencoded one through).
  const rebuilt = pd?.text === undefined && !!pd?.params?.length;
  const body =
    pd?.text !== undefined ? Buffer.from(pd.text, pd._encoding === 'base64' ? 'base64' : 'utf8') : rebuilt ? Buffer.from(formBody(pd.params!)) : Buffer.alloc(0);
  // Cut when hooklab's export says so; from another tool, when it gives fewer bytes than its
  // bodySize (it kept part of the body, or none). A rebuilt form is whole, whatever bodySize
  // says (a form encodes a space as "+" or "%20", say): its size is its own.
  const truncated = rebuilt ? false : (e._hooklab?.truncated ?? (e.request.bodySize ?? 0) > body.length);
  const headers = e.request.headers.flatMap((h) => [h.name, h.value]);
  const trailers = e._hooklab?.trailers;
  return {
    method: e.request.method.toUpperCase(),
    path,
    queryString: u.search.slice(1),
    headers,
    ...(trailers?.length ? { trailers: trailers.flatMap((t) => [t.name, t.value]) } : {}),
    ip: e._hooklab?.ip ?? '',
    receivedAt: new Date(e.startedDateTime).toISOString(),
    size: rebuilt ? body.length : Math.max(body.length, e.request.bodySize ?? 0),
    truncated,
    storedBytes: body.length,
    contentType: flatHeaderValue(headers, 'content-type') ?? (pd?.mimeType || null),
    answer: e._hooklab?.answer ?? IMPORTED_ANSWER(e.response?.status || null),
    body,
  };
}
