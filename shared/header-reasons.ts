// Why the API refuses a header a bin would answer with, in the API's own words. The schema
// (schema/headers.ts) says them; the UI reads them to tell a refused header name from a refused
// value, since both come under the same field ("plan[0].headers.X-Note"). No zod here: the
// client imports this.

export const NOT_HTTP_TOKEN = "must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~)";

export const SET_BY_SERVER = 'is set by the server and cannot be overridden';

export const ORIGIN_HEADER_REASON =
  "cannot be set by a bin: it would change what hooklab's own origin allows (cookies/CSP/HSTS/…); receiver URLs share the UI's origin";

// A JSON object's "__proto__" key would be lost on its way through JavaScript objects (it sets
// the object's prototype): refused, rather than dropped without a word.
export const RESERVED_NAME = 'cannot be used as a header name here (JavaScript reserves it)';

/** What the API says about a header's name; anything else under its field is about its value. */
export const HEADER_NAME_REASONS: ReadonlySet<string> = new Set([NOT_HTTP_TOKEN, SET_BY_SERVER, ORIGIN_HEADER_REASON, RESERVED_NAME]);

/** A header name as a message quotes it: JSON-escaped (a CR or LF shows as \r, \n), cut when long. */
export const quoteHeaderName = (name: string) => JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name);
