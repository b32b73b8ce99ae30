// One copy of each repeated header string. Stored captures' headers (in the metadata cache) and
// dispatcher attempts' and forwards' answers stay in memory as strings, and most of them repeat:
// names ("content-type"), and values such as "application/json", a sender's User-Agent,
// "keep-alive". Measured after a dispatcher
// fast-forward (9,000 captures and attempts): 13.5 of 23 MB of the heap's strings were copies.
// Names are shared, and values when short (most repeating values are) or of a header whose
// values repeat; long values (ids, signatures, dates) are left alone. The table is bounded:
// when full it starts over, which costs a few lookups, never memory.

const MAX_ENTRIES = 4096;
const MAX_NAME = 64;
const MAX_SHORT_VALUE = 32;
const MAX_VALUE = 256;
/** Headers whose (longer) values repeat from request to request. */
const REPEATING = new Set(['user-agent', 'content-type', 'accept', 'accept-encoding', 'accept-language', 'host', 'origin', 'referer', 'via', 'server', 'cache-control', 'vary']);

let table = new Map<string, string>();
/** Whether a header name (as received, interned) is one of REPEATING: lower-cased once per name; emptied with the table. */
let repeating = new Map<string, boolean>();

function intern(s: string): string {
  const known = table.get(s);
  if (known !== undefined) return known;
  if (table.size >= MAX_ENTRIES) {
    table = new Map();
    repeating = new Map();
  }
  table.set(s, s);
  return s;
}

/** `name` as interned (a longer one, not interned, says its values do not repeat). */
function shared(name: string, value: string): string {
  if (value.length <= MAX_SHORT_VALUE) return intern(value);
  if (value.length > MAX_VALUE || name.length > MAX_NAME) return value;
  let r = repeating.get(name);
  if (r === undefined) repeating.set(name, (r = REPEATING.has(name.toLowerCase())));
  return r ? intern(value) : value;
}

/** Flat [name, value, …] (rawHeaders-style) with repeated strings shared, in place; answers it. */
export function internFlat<T extends string[]>(flat: T): T {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i];
    const value = flat[i + 1];
    // Read back from a file, anything may be there: only strings are touched.
    if (typeof name !== 'string' || typeof value !== 'string') continue;
    const n = name.length <= MAX_NAME ? intern(name) : name;
    flat[i] = n;
    flat[i + 1] = shared(n, value);
  }
  return flat;
}

/** [name, value] pairs with repeated strings shared, in place; answers them. */
export function internPairs<T extends [string, string][]>(pairs: T): T {
  for (const p of pairs) {
    const [name, value] = p;
    if (typeof name !== 'string' || typeof value !== 'string') continue;
    const n = name.length <= MAX_NAME ? intern(name) : name;
    p[0] = n;
    p[1] = shared(n, value);
  }
  return pairs;
}
