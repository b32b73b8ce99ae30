// Identifier minting. Bin ids are unguessable (they are the receiver's only secret);
// request and delivery ids sort by creation time so they double as paging cursors.
import { randomFillSync } from 'node:crypto';
import { customAlphabet, customRandom, nanoid } from 'nanoid';

// A bin id is typed into shells (`hooklab wait <bin>`): one starting with "-" would be read as
// an option there (nanoid's alphabet has "-" and "_"), so the first character is alphanumeric.
const binIdHead = customAlphabet('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 1);

export function newBinId(): string {
  return binIdHead() + nanoid(20); // 21 chars, ~126 bits
}

export function newId(prefix: string): string {
  return `${prefix}_${nanoid(14)}`;
}

/**
 * Random bytes for sortable ids, from a pool of their own: nanoid's pool is sized by its first
 * caller (a bin id's 1-character head: 256 bytes, so a refill every ~40 request ids), and each
 * refill is a getrandom syscall, which on a VM cost ~55 us: 1.4 us per capture (CPU profile of
 * a capture flood). 16 KiB lasts ~2,700 ids.
 */
const POOL_BYTES = 16 * 1024;
let pool = Buffer.alloc(0);
let poolAt = 0;
function pooledRandom(bytes: number): Buffer {
  if (poolAt + bytes > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(Math.max(POOL_BYTES, bytes)));
    poolAt = 0;
  }
  poolAt += bytes;
  return pool.subarray(poolAt - bytes, poolAt);
}

// A sortable id's random tail tells apart ids minted in the same ms by different processes (a
// cluster's instances); it is no secret. 32 characters, so nanoid masks one random byte per
// character (6 per id): over 36 it drew 17 bytes per id, for rejection sampling.
const randomTail = customRandom('0123456789abcdefghijklmnopqrstuv', 6, pooledRandom);

/**
 * Ids that sort lexicographically in creation order: 9 base36 chars of ms time,
 * 4 of a per-ms counter, then random. Monotonic even if the wall clock steps back, and, given
 * `after` (the newest id stored), across a restart too: an id sorting before stored ones would
 * be listed among them, taken for the oldest by the bin's cap, and skipped by a relay whose
 * cursor is past it.
 */
export function sortableIdFactory(now: () => number = Date.now, prefix = '', after: string | null = null): () => string {
  let lastMs = 0;
  let counter = 0;
  const floor = after === null ? null : idTime(after, prefix);
  if (floor) ({ ms: lastMs, counter } = floor);
  // The time part changes once per ms, not per id: made once for it.
  let headMs = -1;
  let head = '';
  return () => {
    let ms = now();
    if (ms <= lastMs) {
      ms = lastMs;
      counter++;
      if (counter >= 36 ** 4) {
        lastMs = ms = lastMs + 1;
        counter = 0;
      }
    } else {
      lastMs = ms;
      counter = 0;
    }
    if (ms !== headMs) {
      headMs = ms;
      head = prefix + ms.toString(36).padStart(9, '0');
    }
    return head + counter.toString(36).padStart(4, '0') + randomTail();
  };
}

/** The time and counter parts of a sortable id (null when it is not one of this prefix). */
export function idTime(id: string, prefix = ''): { ms: number; counter: number } | null {
  if (!id.startsWith(prefix)) return null;
  const m = /^([0-9a-z]{9})([0-9a-z]{4})/.exec(id.slice(prefix.length));
  return m ? { ms: parseInt(m[1], 36), counter: parseInt(m[2], 36) } : null;
}
