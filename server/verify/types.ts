// What one signature scheme tells the engine; the engine (check.ts) does the rest: HMACs,
// constant-time comparison, rotation, tolerance and the hunt for a cause.
import type { InvalidCauseT, VerifySchemeT } from '../../shared/schema/verify.ts';
import type { HeaderIndex } from './headers.ts';
import type { Timestamp } from './timestamp.ts';

/** A capture as stored: rawHeaders-style flat [name, value, …] (values Latin-1), raw body bytes. */
export interface VerifyRequest {
  headers: readonly string[];
  body: Buffer;
  /** The stored body is only a prefix of what was sent: no signature over it can match. */
  truncated?: boolean;
}

export type Algorithm = 'sha1' | 'sha256' | 'sha512';

/** One signature the request carries: as written, and its MAC bytes (null when unreadable). */
export interface Received {
  text: string;
  mac: Buffer | null;
}

/** A request read under one scheme. */
export interface Reading {
  /** The signature header, as the scheme names it (for people). */
  header: string;
  received: Received[];
  /** The signed timestamp: text as signed, seconds (null when not a number). */
  timestamp?: Timestamp;
  /**
   * Why the provider's own library would refuse this header even with a right signature (a
   * form it does not read), for schemes whose library compares text (see SchemeDef.exactText).
   */
  strictProblem?: string;
  /**
   * A signed header sent on several lines, for schemes whose library may still accept the
   * joined value (Stripe, Standard Webhooks): when no secret matches, this is the verdict's
   * message (malformed_header), not a cause guessed from a value no sender signed.
   */
  repeated?: string;
  /**
   * Why a receiver using the provider's own library may refuse this request although its
   * signature is right by the scheme's spec (a body that is not UTF-8, say): called only on a
   * match, its words go with the verdict (see check.ts).
   */
  caveat?: (body: Buffer) => string | undefined;
  /** Set when the signed string cannot be formed: no check is possible. */
  problem?: { cause: Extract<InvalidCauseT, 'malformed_header' | 'timestamp_missing'>; message: string };
  /** The signed string, in pieces (no copy of the body), for a given body. */
  signed: (body: Buffer) => Buffer[];
}

/** Another key that the sender may have used by mistake, made from a configured secret. */
export interface MistakenKey {
  key: Buffer;
  cause: InvalidCauseT;
  how: string;
}

export interface SchemeDef<S extends VerifySchemeT = VerifySchemeT> {
  /** Does the request carry this scheme's signature header? (It then decides.) */
  carries(scheme: S, h: HeaderIndex): boolean;
  /** Header names looked for, for the "missing" message. */
  headerNames(scheme: S): string[];
  read(scheme: S, h: HeaderIndex): Reading;
  algorithm(scheme: S): Algorithm;
  key(secret: string): Buffer;
  mistakenKeys(secret: string): MistakenKey[];
  /** A MAC written as the header writes it. */
  format(mac: Buffer, scheme: S): string;
  /** Seconds of tolerance, when the scheme signs a timestamp. */
  toleranceSec?(scheme: S): number;
  /**
   * The provider's library that compares a signature as text, as `format` writes it: a right
   * MAC written otherwise (another base64 alphabet, upper-case hex) fails there, so here too.
   */
  exactText?: string;
}
