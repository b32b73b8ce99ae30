// One configured scheme against one request: read the header, compute the HMAC per secret,
// compare in constant time, check the timestamp; on failure, say what was expected and why.
import type { KeyObject } from 'node:crypto';
import type { VerificationT, VerifySettingsT } from '../../shared/schema/verify.ts';
import { DEFAULT_TOLERANCE_SEC } from '../../shared/schema/verify.ts';
import { pastOnlyTolerance, toleranceWords } from '../../shared/tolerance.ts';
import { explain } from './causes.ts';
import { DIGEST_BYTES, hmac, sameMac } from './crypto.ts';
import type { HeaderIndex } from './headers.ts';
import { preview } from './preview.ts';
import { schemeDef } from './registry.ts';
import { unitHint } from './timestamp.ts';
import type { VerifyRequest } from './types.ts';

/** A result keeps at most this many received signatures, each cut to this length. */
const MAX_RECEIVED = 16;
const MAX_RECEIVED_CHARS = 256;
const cut = (s: string) => (s.length > MAX_RECEIVED_CHARS ? `${s.slice(0, MAX_RECEIVED_CHARS)}…` : s);

/** `keys`: this scheme's secrets as ready keys (see secretKeys), else each is decoded here. */
export function checkScheme(settings: VerifySettingsT, index: number, req: VerifyRequest, h: HeaderIndex, nowMs: number, keys?: readonly KeyObject[]): VerificationT {
  const scheme = settings.schemes[index];
  const def = schemeDef(scheme);
  const reading = def.read(scheme, h);
  const who = { scheme: scheme.type, schemeIndex: index } as const;
  // Only a failed check shows what was received: a valid one (the common case) skips the copy.
  const received = () => reading.received.slice(0, MAX_RECEIVED).map((r) => cut(r.text));
  if (reading.problem) {
    return { status: 'invalid', ...who, details: { message: reading.problem.message, header: reading.header, received: received(), cause: reading.problem.cause } };
  }

  const algorithm = def.algorithm(scheme);
  const macs: Buffer[] = [];
  const texts: string[] = []; // each one's text, as received
  for (const r of reading.received) {
    if (r.mac && r.mac.length === DIGEST_BYTES[algorithm]) {
      macs.push(r.mac);
      texts.push(r.text);
    }
  }
  const parts = reading.signed(req.body);
  const ts = reading.timestamp;
  const skewSec = ts?.sec != null ? Math.floor(nowMs / 1000) - ts.sec : undefined;
  const toleranceSec = ts ? (def.toleranceSec?.(scheme) ?? DEFAULT_TOLERANCE_SEC) : undefined;

  // Every secret's MAC is needed for the answer when none matches; stop at the first match.
  const own: Buffer[] = [];
  for (let k = 0; k < scheme.secrets.length; k++) {
    const mac = hmac(algorithm, keys?.[k] ?? def.key(scheme.secrets[k]), parts);
    if (macs.some((m) => sameMac(m, mac))) {
      const secretIndex = own.length;
      if (ts && ts.sec === null) {
        const message = `The signature is right, but the signed timestamp "${cut(ts.text)}" is not a number of seconds, so its age cannot be checked.${unitHint(ts)}`;
        return { status: 'invalid', ...who, secretIndex, details: { message, header: reading.header, received: received(), cause: 'malformed_header' } };
      }
      if (skewSec !== undefined && toleranceSec !== undefined && (pastOnlyTolerance(scheme.type) ? skewSec : Math.abs(skewSec)) > toleranceSec) {
        const when = skewSec > 0 ? `${skewSec} s before it arrived` : `${-skewSec} s after it arrived`;
        // 13, 16 or 19 digits: a sender that wrote Date.now() (or µs, ns) where the scheme signs seconds.
        const caveat = reading.caveat?.(req.body);
        const message = `Signed right, but ${when}; the tolerance is ${toleranceWords(scheme.type, `${toleranceSec} s`)}.${unitHint(ts!)}${caveat ? ` ${caveat}` : ''}`;
        return { status: 'expired', ...who, secretIndex, skewSec, details: { message, header: reading.header, timestamp: ts!.sec!, toleranceSec } };
      }
      // Right, but in a form the provider's own library reads as text and refuses.
      if (def.exactText) {
        const written = def.format(mac, scheme);
        const matching = texts.filter((_t, i) => sameMac(macs[i], mac));
        const problem = reading.strictProblem ?? (matching.includes(written) ? null : `The signature is right, but written "${cut(matching[0])}": the provider's library (${def.exactText}) compares it as text with "${written}" and rejects it.`);
        // Written so by the joining of a header sent on several lines (", v1=…"): that is the cause.
        if (problem && reading.repeated && !reading.strictProblem) return { status: 'invalid', ...who, secretIndex, details: { message: reading.repeated, header: reading.header, received: received(), cause: 'malformed_header' } };
        if (problem) return { status: 'invalid', ...who, secretIndex, details: { message: problem, header: reading.header, received: received(), cause: 'signature_encoding' } };
      }
      // Built without spreads: this is the result of nearly every check.
      const valid: VerificationT = { status: 'valid', scheme: scheme.type, schemeIndex: index, secretIndex };
      if (skewSec !== undefined) valid.skewSec = skewSec;
      // Valid by the spec, but the provider's library may refuse it: a warning in the details.
      const caveat = reading.caveat?.(req.body);
      if (caveat) valid.details = { message: caveat, header: reading.header };
      return valid;
    }
    own.push(mac);
  }

  // No secret matched (rarer: the details are built only now).
  const skew = skewSec === undefined ? {} : { skewSec };
  const time = ts?.sec != null ? { timestamp: ts.sec, toleranceSec } : {};
  const expected = own.map((mac, secretIndex) => ({ secretIndex, signature: def.format(mac, scheme) }));
  const shown = { header: reading.header, signed: preview(parts), expected, received: received(), ...time };
  if (macs.length === 0) {
    const message = `${reading.header} carries no signature in the form this scheme writes (like "${expected[0]?.signature ?? ''}").`;
    return { status: 'invalid', ...who, ...skew, details: { message, cause: 'malformed_header', ...shown } };
  }
  // A header sent on several lines is judged joined, as the library gets it: no cause found
  // for that joined value (nor a skew from whichever t= it holds) would mean anything.
  if (reading.repeated) {
    return { status: 'invalid', ...who, details: { message: reading.repeated, cause: 'malformed_header', header: reading.header, signed: preview(parts), expected, received: received() } };
  }
  // The search for a cause is a help, never a fault: whatever it meets (a body no check
  // foresaw), the verdict stands, with the default judgement.
  let why: ReturnType<typeof explain>;
  try {
    why = explain({ settings, index, scheme, def, reading, req, algorithm, macs });
  } catch {
    why = { cause: 'body_changed', message: 'No configured secret gives the received signature over these bytes (what else could explain it was not worked out for this body).' };
  }
  return { status: 'invalid', ...who, ...skew, details: { message: why.message, cause: why.cause, ...(why.matched && { matched: why.matched }), ...shown } };
}
