// Scheme type -> its definition. A new scheme is one file and one line here.
import type { SchemeTypeT, VerifySchemeT } from '../../shared/schema/verify.ts';
import { github } from './github.ts';
import { hmac } from './hmac.ts';
import { shopify } from './shopify.ts';
import { slack } from './slack.ts';
import { standardWebhooks } from './standard-webhooks.ts';
import { stripe } from './stripe.ts';
import type { SchemeDef } from './types.ts';

const SCHEMES: { [T in SchemeTypeT]: SchemeDef<Extract<VerifySchemeT, { type: T }>> } = {
  'standard-webhooks': standardWebhooks,
  stripe,
  github,
  shopify,
  slack,
  hmac,
};

export const schemeDef = (s: VerifySchemeT): SchemeDef => SCHEMES[s.type] as SchemeDef;
