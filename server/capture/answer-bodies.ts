// A bin's configured answer body as bytes, made once and shared by every answer that sends it.
// Sent as a string, each answer was encoded into a copy of its own, held until its reader took
// it: strangers who open connections and never read (a few pipelined requests on each) held
// ~1.5 MB per connection for a 768 KB body, 1.5 GB over a thousand of them (a security probe).
// A Buffer is written by reference, so unread answers hold one copy between them.

/** Smaller bodies stay strings: Node then writes head and body in one write. */
export const SHARED_FROM_CHARS = 16 * 1024;

export class AnswerBodies {
  /** Body text -> its bytes, least recently used first. */
  private readonly cache = new Map<string, Buffer>();
  private bytes = 0;

  /** `maxBytes`: bytes kept at most (bodies are at most MAX_BODY_CHARS, 256 Ki characters, each). */
  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  /** What to write for `body`: the string itself when small, else its shared bytes. */
  bytesOf(body: string): string | Buffer {
    if (body.length < SHARED_FROM_CHARS) return body;
    let b = this.cache.get(body);
    if (b) {
      // Used again: to the end of the line (a Map keeps insertion order).
      this.cache.delete(body);
      this.cache.set(body, b);
      return b;
    }
    b = Buffer.from(body);
    // One larger than the whole budget is its answer's alone (and pushes nothing out).
    if (b.length > this.maxBytes) return b;
    for (const [k, v] of this.cache) {
      if (this.bytes + b.length <= this.maxBytes) break;
      this.cache.delete(k);
      this.bytes -= v.length;
    }
    this.cache.set(body, b);
    this.bytes += b.length;
    return b;
  }

  /** Bodies kept (for tests). */
  get size(): number {
    return this.cache.size;
  }
}
