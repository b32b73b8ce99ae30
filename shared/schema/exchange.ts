// Export and import of a bin's captures: NDJSON (one capture per line, byte-exact) and HAR 1.2.
import { z } from 'zod';
import { int, obj, oneOf, str } from './common.ts';
import { AnswerOutcome } from './bins.ts';

export const ExportQuery = obj({
  format: oneOf(['ndjson', 'har']).optional().meta({ description: 'Default ndjson.' }),
  ids: z
    .string()
    .regex(/^[0-9a-z]{1,40}(,[0-9a-z]{1,40})*$/, { error: 'must be request ids separated by commas' })
    .transform((s) => s.split(','))
    .optional()
    .meta({ description: 'Only these captures (e.g. "Copy as HAR" for one).' }),
});

/** One line of an NDJSON export: everything about a capture, the body in base64. */
export const ExportLine = z
  .object({
    id: z.string(),
    method: str(64, 1),
    path: str(65_536, 1).refine((p) => p.startsWith('/'), { error: 'must start with "/"' }),
    queryString: str(65_536),
    headers: z
      .array(z.tuple([str(8192), str(65_536)]), { error: 'must be a list of [name, value] pairs' })
      .max(1000, { error: 'at most 1000 headers' }),
    ip: str(64),
    receivedAt: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time' }),
    size: int(0, Number.MAX_SAFE_INTEGER),
    truncated: z.boolean(),
    contentType: z.string().nullable(),
    answer: AnswerOutcome,
    body: z.base64({ error: 'must be base64' }),
  })
  .meta({ id: 'ExportLine' });

/** The parts of a HAR 1.2 document an import reads. */
export const HarImport = z.object({
  log: z.object({
    entries: z.array(
      z.object({
        startedDateTime: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time' }),
        request: z.object({
          method: str(64, 1),
          url: z.string().refine((u) => URL.canParse(u), { error: 'must be an absolute URL' }),
          headers: z.array(z.object({ name: z.string(), value: z.string() })),
          postData: z
            .object({ mimeType: z.string().optional(), text: z.string().optional(), _encoding: z.literal('base64').optional() })
            .optional(),
          bodySize: z.number().optional(),
        }),
        response: z.object({ status: z.number() }).optional(),
        _hooklab: z.object({ ip: z.string().optional(), answer: AnswerOutcome.optional(), path: z.string().optional() }).optional(),
      }),
    ),
  }),
});

export const ImportResult = z
  .object({ imported: z.int(), evicted: z.int().meta({ description: 'Captures pushed out by the caps to make room.' }) })
  .meta({ id: 'ImportResult' });
