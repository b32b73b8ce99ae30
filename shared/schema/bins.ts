// Bins and the requests they captured.
import { z } from 'zod';
import { obj, str, time } from './common.ts';
import { Fault } from './response.ts';

/** A bin id chosen by the user (config as code, CI): URL-safe, like generated ids. */
export const BinSlug = z
  .string({ error: 'must be a string' })
  .regex(/^[A-Za-z0-9_-]{4,64}$/, { error: 'must be 4 to 64 characters of A-Z, a-z, 0-9, "_" and "-"' })
  .meta({ description: 'URL-safe, 4 to 64 characters. It is the secret part of the receiver URL: short ones are guessable.' });

/** Ids shorter than generated ones (21 characters) can be guessed by trying. */
export const SHORT_SLUG = 16;

export function slugWarning(id: string): string | null {
  return id.length < SHORT_SLUG
    ? `bin id "${id}" is short: anyone who guesses it can send to its URL (and, without AUTH_TOKEN, read it); use ${SHORT_SLUG}+ characters or a generated id`
    : null;
}

export const BinInput = obj({
  id: BinSlug.optional().meta({ description: 'Ask for this id (a slug); 409 when taken. Default: a random 21-character id.' }),
  name: str(200).transform((s) => s.trim()).optional().meta({ description: 'Shown in the UI; default "Bin <first 6 of the id>".' }),
}).meta({ id: 'BinInput' });

export const BinRename = obj({ name: str(200).transform((s) => s.trim()) }).meta({ id: 'BinRename' });

export const Bin = z
  .object({
    id: z.string(),
    name: z.string(),
    url: z.string().meta({ description: 'Absolute receiver URL, built from PUBLIC_URL.' }),
    createdAt: time(),
    requestCount: z.int(),
    lastRequestAt: time().nullable(),
  })
  .meta({ id: 'Bin' });

export const BinList = z.object({ bins: z.array(Bin) }).meta({ id: 'BinList' });

export const BinCreated = Bin.extend({ warnings: z.array(z.string()).optional().meta({ description: 'E.g. a short, guessable id.' }) }).meta({ id: 'BinCreated' });

export const HeaderPair = z.tuple([z.string(), z.string()]).meta({ id: 'HeaderPair', description: 'One header as sent: original case; order and repeats kept in lists.' });

export const Query = z.record(z.string(), z.union([z.string(), z.array(z.string())])).meta({ id: 'Query', description: 'Parsed query string; a repeated key becomes a list, in order.' });

export const AnswerOutcome = z
  .object({
    status: z.int().nullable().meta({ description: 'HTTP status sent, or null when a fault answered.' }),
    delayMs: z.int(),
    fault: Fault.nullable(),
    source: z.enum(['default', 'step', 'rule', 'rate-limit']).meta({ description: 'Which part of the settings decided the answer.' }),
    index: z.int().nullable().meta({ description: 'Index of the step or rule that answered.' }),
    roll: z.object({ p: z.number(), value: z.number(), hit: z.boolean() }).nullable().meta({ description: 'For a probability step: the draw.' }),
  })
  .meta({ id: 'AnswerOutcome' });

const itemShape = {
  id: z.string().meta({ description: 'Sorts by arrival: also the paging cursor.' }),
  binId: z.string(),
  method: z.string(),
  path: z.string().meta({ description: "Path below the bin, always starting with '/'." }),
  queryString: z.string().meta({ description: "The query string exactly as sent, without the '?'." }),
  ip: z.string(),
  receivedAt: time(),
  size: z.int().meta({ description: 'Full body size in bytes, even when truncated.' }),
  truncated: z.boolean(),
  contentType: z.string().nullable(),
  status: z.int().nullable().meta({ description: 'Status answered (null for a fault).' }),
  answer: AnswerOutcome,
};

/** A list row; the live `request` event carries exactly this. */
export const RequestItem = z.object(itemShape).meta({ id: 'RequestItem' });

export const RequestSummary = z.object({ ...itemShape, query: Query, headers: z.array(HeaderPair) }).meta({ id: 'RequestSummary' });

export const BodyEncoding = z.enum(['utf8', 'base64']);

export const RequestDetail = z
  .object({
    ...itemShape,
    query: Query,
    headers: z.array(HeaderPair),
    body: z.string().meta({ description: 'The stored body: UTF-8 text when valid UTF-8, else base64.' }),
    bodyEncoding: BodyEncoding,
    storedBytes: z.int(),
    decoded: z
      .object({ body: z.string(), bodyEncoding: BodyEncoding, bytes: z.int(), truncated: z.boolean(), error: z.string().nullable() })
      .nullable()
      .meta({ description: 'Decoded view when content-encoding is gzip/deflate/br (display only).' }),
  })
  .meta({ id: 'RequestDetail' });

export const RequestPage = z
  .object({
    requests: z.array(RequestSummary),
    nextBefore: z.string().nullable().meta({ description: 'Pass as `before` for the next (older) page; null when there is none.' }),
  })
  .meta({ id: 'RequestPage' });

export const Health = z
  .object({
    ok: z.boolean(),
    status: z.enum(['ok', 'starting', 'storage_fault']),
    version: z.string().optional(),
    fault: z.object({ code: z.string(), message: z.string(), since: time() }).optional(),
    warnings: z.array(z.string()).optional(),
  })
  .meta({ id: 'Health' });

