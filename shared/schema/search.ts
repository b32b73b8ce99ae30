// Finding captures: the filters of the request list's search and of the wait API.
import { z } from 'zod';
import { obj, qInt, str } from './common.ts';
import { TCHAR } from './headers.ts';

// A capture's id: 9 characters of time and 4 of counter, then a random tail (server/ids.ts),
// all lower-case letters and digits. Shorter strings ("garbage", an arrival number) were
// compared as ids: `after` matched nothing and a wait timed out, `before` matched everything.
const requestId = z.string().regex(/^[0-9a-z]{13,40}$/, { error: 'must be a capture id, as the API gives them (its "id"; not its arrival number)' });

/**
 * A duration with its unit: "30s", "500ms", "2m". A bare number is refused: `timeout=30` meant
 * as seconds was read as 30 ms before, an instant 408 (the CLI refuses one for the same reason).
 */
export const durationMs = (maxMs: number) =>
  z
    .string()
    // Hours too, so that "1h" is told the longest wait rather than that it has no unit.
    .regex(/^\d+(\.\d+)?(ms|s|m|h)$/, { error: 'must be a duration with its unit, such as 30s, 500ms or 2m' })
    .transform((s, ctx) => {
      const n = Number.parseFloat(s);
      const ms = Math.round(s.endsWith('ms') ? n : s.endsWith('s') ? n * 1000 : s.endsWith('h') ? n * 3_600_000 : n * 60_000);
      // Checked here, in these words, for any length of digits: past 2^53 (or Infinity) the
      // int below would refuse it in zod's own ("Too big: expected int to be <=9007199254740991").
      if (!(ms <= maxMs)) {
        ctx.addIssue({ code: 'custom', message: `must be at most ${maxMs / 1000} s` });
        return z.NEVER;
      }
      return ms;
    })
    .pipe(z.int().min(0).max(maxMs));

/** Header filters in one search: each is checked against every header of every capture read. */
export const MAX_HEADER_FILTERS = 20;

/**
 * `name` (present) or `name:value` (equal). A name no header can have would match nothing,
 * silently (a wait would time out): refused, by a pattern the OpenAPI document shows too.
 */
const headerFilter = str(8192, 1)
  .regex(new RegExp(`^\\s*${TCHAR}+\\s*(:[\\s\\S]*)?$`), { error: "must be name or name:value, the name an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)" })
  .transform((s) => {
    const i = s.indexOf(':');
    return i === -1 ? { name: s.trim().toLowerCase() } : { name: s.slice(0, i).trim().toLowerCase(), value: s.slice(i + 1).trim() };
  });

const filterShape = {
  method: str(32, 1)
    // One no request can have would match nothing, silently (a wait would time out).
    .regex(new RegExp(`^\\s*${TCHAR}+\\s*$`), { error: "must be an HTTP method: a token of letters, digits and !#$%&'*+-.^_`|~ (no spaces)" })
    .transform((m) => m.trim())
    .optional()
    .meta({ description: 'Exact method, case-insensitive.' }),
  path: str(2048, 1)
    // Sub-paths start with "/": "hooks" means "/hooks" (it matched nothing).
    .transform((p) => (p.startsWith('/') ? p : `/${p}`))
    .optional()
    .meta({ description: 'Sub-path prefix below the bin, e.g. /hooks (a missing leading / is added).' }),
  status: z
    .string()
    .regex(/^([1-5]\d\d|[1-5][xX][xX])$/, { error: 'must be a status such as 500, or a class such as 5xx' })
    .transform((s) => s.toLowerCase())
    .optional()
    .meta({ description: 'Status the sender got (500), or its class (5xx, in any case): not one whose sender hung up before a delayed answer went. A wait counts a delayed answer once it went, a proxied one once the target answered.' }),
  header: z
    // One header filter's refusal in its own words (the union would say "Invalid input").
    .union([headerFilter, z.array(headerFilter)], { error: (iss) => (typeof iss.input === 'string' ? (iss as { errors?: { message: string }[][] }).errors?.[0]?.[0]?.message : undefined) })
    .transform((h) => (Array.isArray(h) ? h : [h]))
    .refine((h) => h.length <= MAX_HEADER_FILTERS, { error: `at most ${MAX_HEADER_FILTERS} header filters` })
    .optional()
    .meta({ description: `A header name (present) or name:value (equal); repeat for several (at most ${MAX_HEADER_FILTERS}).` }),
  key: str(1024, 1)
    .optional()
    .meta({ description: "The sender's idempotency key, exact (a capture's `idempotencyKey`): a message and its retries, e.g. key=msg_2Lq4." }),
  q: str(1000, 1).optional().meta({ description: 'Text in the body (case-insensitive).' }),
};

export const RequestSearchQuery = obj({
  ...filterShape,
  limit: qInt(1, 500).optional().meta({ description: 'Default 50.' }),
  before: requestId.optional().meta({ description: 'Only requests older than this id.' }),
  after: requestId.optional().meta({ description: 'Only requests newer than this id.' }),
});

export const RequestWaitQuery = obj({
  ...filterShape,
  after: requestId.optional().meta({ description: 'Only requests newer than this id (default: any stored one).' }),
  timeout: durationMs(600_000).optional().meta({ description: 'How long to wait, with its unit: 30s, 500ms, 2m (default 30s, at most 10m; a bare number is refused).' }),
});

export const DeliveryWaitQuery = obj({
  state: z
    .enum(['delivered', 'failed', 'cancelled', 'done'], { error: 'must be one of: delivered, failed, cancelled, done' })
    .optional()
    .meta({ description: 'The state to wait for; done (the default): any final state.' }),
  timeout: durationMs(600_000).optional().meta({ description: 'How long to wait, with its unit: 30s, 500ms, 2m (default 30s, at most 10m; a bare number is refused).' }),
});

export type RequestFilter = Pick<z.output<typeof RequestSearchQuery>, 'method' | 'path' | 'status' | 'header' | 'key' | 'q'>;
