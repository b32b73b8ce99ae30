// Proxy mode (a bin's forward settings with answerWith "target"): the sender gets the first
// target's answer. Its status, headers (in order) and body as read (up to
// FORWARD_MAX_RESPONSE_BYTES) pass through, except what cannot: hop-by-hop headers, the length
// (set for what is sent), and headers that would act for hooklab's whole origin. A target
// that did not answer, or whose answer was cut off after its head (a reset, the timeout),
// becomes 504 (timeout) or 502 (anything else: target_blocked when a rule kept it from being
// sent or it led back into hooklab, target_incomplete when its answer was cut off), with its
// code and generic words (the detail is recorded with the capture); a body over
// MAX_BODY_BYTES, not sent, is 413.
import type { OutgoingHttpHeaders } from 'node:http';
import { ORIGIN_HEADERS } from '../../shared/schema/headers.ts';
import type { ForwardResult } from '../forward/request.ts';

// And the target's x-hooklab-request-id (a target that is another hooklab): the sender gets this
// capture's; its x-hooklab-body-truncated: only hooklab says an answer was cut.
const DROPPED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'trailer', 'content-length', 'x-hooklab-request-id', 'x-hooklab-body-truncated']);

/** Headers the target's Connection header names are hop-by-hop too (RFC 9110 §7.6.1), as are Proxy-* ones. */
function hopByHop(headers: readonly (readonly [string, string])[]): Set<string> {
  const named = new Set<string>();
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'connection') continue;
    for (const token of value.split(',')) if (token.trim()) named.add(token.trim().toLowerCase());
  }
  return named;
}

/** Where a proxied sender's failed answer sends them for its detail. */
export const SEE_CAPTURE = 'The details are recorded with the capture in hooklab.';

export interface ProxyAnswer {
  status: number;
  /** Flat [name, value, …] in the target's order and case. */
  headers: string[];
  body: Buffer;
}

export function proxyAnswer(r: ForwardResult): ProxyAnswer {
  if (r.error === 'truncated') {
    // The sender's body was over what hooklab keeps: too large, not the target's doing.
    const body = JSON.stringify({ error: { code: 'body_too_large', message: `The request was not sent to the forward target (proxy mode): ${r.errorDetail}.` } });
    return { status: 413, headers: ['content-type', 'application/json; charset=utf-8'], body: Buffer.from(body) };
  }
  // Any error but the cap's (bodyTruncated alone: a whole answer we chose to cut) failed the
  // exchange, even after a head came: the sender must not take a cut-off answer for the answer.
  if (r.status === null || r.error !== null) return failedAnswer(r);
  const headers: string[] = [];
  const named = hopByHop(r.headers);
  for (const [name, value] of r.headers) {
    const lower = name.toLowerCase();
    if (DROPPED.has(lower) || ORIGIN_HEADERS.has(lower) || named.has(lower) || lower.startsWith('proxy-')) continue;
    headers.push(name, value);
  }
  // Said rather than hidden: the sender got only the first bytes.
  if (r.bodyTruncated) headers.push('x-hooklab-body-truncated', 'true');
  return { status: r.status, headers, body: r.body };
}

const JSON_TYPE = ['content-type', 'application/json; charset=utf-8'];

function failedAnswer(r: ForwardResult): ProxyAnswer {
  const timeout = r.error === 'timeout';
  // Not sent by rule (the allow-list, a sub-path that climbs out of the target's), or it came
  // back into this hooklab (a loop, refused there with 508: not for the sender to see).
  const blocked = r.error === 'blocked' || r.error === 'loop';
  const cutOff = r.status !== null;
  // The code and generic words only: anyone with the bin's URL is told this, and the detail
  // (the target's host and port, where its name resolves, the rule that kept it) is about
  // the network behind hooklab. It is recorded with the capture's forward (errorDetail).
  const [code, words] = timeout
    ? ['target_timeout', cutOff ? "The bin's forward target did not finish its answer within FORWARD_TIMEOUT_MS (proxy mode)." : "The bin's forward target did not answer within FORWARD_TIMEOUT_MS (proxy mode)."]
    : blocked
      ? ['target_blocked', "The request was not sent to the bin's forward target: hooklab's rules for outbound calls refused it (proxy mode)."]
      : cutOff
        ? ['target_incomplete', "The bin's forward target's answer was cut off before it was complete (proxy mode)."]
        : ['target_unreachable', "The bin's forward target could not be reached (proxy mode)."];
  const body = JSON.stringify({ error: { code, message: `${words} ${SEE_CAPTURE}` } });
  return { status: timeout ? 504 : 502, headers: [...JSON_TYPE], body: Buffer.from(body) };
}

/** Names of a flat header list, for Access-Control-Expose-Headers. */
export function namesOf(flat: readonly string[] | OutgoingHttpHeaders): string[] {
  if (!Array.isArray(flat)) return Object.keys(flat);
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push(flat[i]);
  return out;
}
