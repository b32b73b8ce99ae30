// The config file (HOOKLAB_CONFIG=hooklab.config.json or --config): bins with fixed ids and
// their response, forward and signature settings, webhooks with fixed ids and secrets,
// applied at start-up.
import { z } from 'zod';
import { bool, list, obj, str, typeError } from './common.ts';
import { ConfigBinId, LabelFrom } from './bins.ts';
import { httpUrl, webhookFields } from './dispatch.ts';
import { ForwardSettings } from './forward.ts';
import { VerifySettingsInput } from './verify.ts';
import { DEFAULT_RESPONSE_LIMITS, type ResponseLimits, responseConfigInput } from './response.ts';

export const WebhookId = z
  .string({ error: typeError('must be a string') })
  .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'must be 1 to 64 characters of A-Z, a-z, 0-9, "_" and "-"' });

/** Each id at most once in its list. (Told by position: a bin id is its receiver URL's secret, and this is logged.) */
function uniqueIds(items: { id: string }[] | undefined, ctx: z.RefinementCtx) {
  const seen = new Map<string, number>();
  items?.forEach((x, i) => {
    const first = seen.get(x.id);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `is used twice (entry ${first} has it too)` });
    else seen.set(x.id, i);
  });
}

export const configFile = (lim: ResponseLimits = DEFAULT_RESPONSE_LIMITS) =>
  obj({
    bins: list(
      obj({
        id: ConfigBinId.meta({ description: 'URL-safe, 4 to 64 characters. A new bin\'s id may not start with "-" (one that already exists may).' }),
        name: str(200).transform((s) => s.trim()).optional(),
        labelFrom: LabelFrom.optional().meta({ description: 'As PATCH /api/bins/:id (`[]`: back to the built-in rules).' }),
        response: responseConfigInput(lim).optional().meta({ description: 'As PUT /api/bins/:id/response.' }),
        forward: ForwardSettings.optional().meta({ description: 'As PUT /api/bins/:id/forward.' }),
        verify: VerifySettingsInput.optional().meta({ description: 'As PUT /api/bins/:id/verify (secrets in the file: keep it private).' }),
      }),
      10_000,
    )
      .superRefine(uniqueIds)
      .optional(),
    webhooks: list(obj({ id: WebhookId, url: httpUrl(), ...webhookFields }), 10_000)
      .superRefine(uniqueIds)
      .optional(),
    prune: bool().optional().meta({ description: 'Delete bins and webhooks that are not in the file (default: leave them).' }),
  });

export type ConfigFile = z.output<ReturnType<typeof configFile>>;
