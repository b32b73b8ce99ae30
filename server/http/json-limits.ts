// How large a JSON body the API reads. 1 MB, except a single replay's: a capture cut at
// MAX_BODY_BYTES is replayed with its whole body in "body" (the 409 body_truncated says so), and
// that body alone is over MAX_BODY_BYTES, as base64 a third more; with a 1 MB limit that advice
// could never be followed (1.1 MB as base64 is 1.47 MB of JSON: 413).

export const API_JSON_LIMIT = 1024 * 1024;

/** POST /bins/:id/requests/:rid/replay, as a URL under /api. */
const SINGLE_REPLAY = /^\/bins\/[^/?]+\/requests\/[^/?]+\/replay\/?(?:\?|$)/;
export const isSingleReplay = (url: string | undefined) => SINGLE_REPLAY.test(url ?? '');

/**
 * A single replay's JSON body limit: a body of MAX_BODY_BYTES in base64, plus the 1 MB every
 * API body has (for its headers, path, query and URL), at least as much as MAX_BODY_BYTES'
 * bytes sent as a JSON string need when no character of them is escaped.
 */
export const replayJsonLimit = (maxBodyBytes: number) => Math.ceil(maxBodyBytes / 3) * 4 + API_JSON_LIMIT;

/** "1 MB", or bytes with thousands separators. */
export const limitWords = (bytes: number) => (bytes === API_JSON_LIMIT ? '1 MB' : `${bytes.toLocaleString('en-US')} bytes`);
