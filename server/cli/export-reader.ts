// An export's answer, read for `hooklab export`. A server that has to cut an export off (a
// capture it could not read) writes one last line saying why, {"error":{"code","message"}},
// then drops the connection. That line is the server's word, not a capture: the end of the
// export is held back as it streams (ExportTail), so the line is kept out of the output and
// told instead of "lost the connection". And the answer is read as it comes, a read always
// waiting (ExportReader): a web stream that fails drops the chunks it still queues, and the
// reason is the last of them (an export small enough to arrive while --out was being opened
// lost it).

/** Bytes held back: more than such a line takes (a short message and a code). */
const HOLD_BYTES = 8192;

export interface ServerReason {
  code: string;
  message: string;
}

export class ExportTail {
  private held = Buffer.alloc(0);

  /** Takes the next bytes that came; answers those that can go out now (all but the last HOLD_BYTES). */
  push(chunk: Buffer): Buffer {
    const all = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    const keep = Math.min(all.length, HOLD_BYTES);
    this.held = Buffer.from(all.subarray(all.length - keep));
    return all.subarray(0, all.length - keep);
  }

  /** The export came whole: what is still held goes out. */
  rest(): Buffer {
    return this.held;
  }

  /**
   * The export failed part way: the server's reason, when its last line is one, and what was
   * held back before that line (to write out too, where the output is kept).
   */
  reason(): { reason: ServerReason | null; before: Buffer } {
    const b = this.held;
    if (b.at(-1) !== 0x0a) return { reason: null, before: b };
    const start = b.lastIndexOf(0x0a, b.length - 2) + 1;
    try {
      const e = (JSON.parse(b.subarray(start, b.length - 1).toString('utf8')) as { error?: { code?: unknown; message?: unknown } }).error;
      // (The newline before the line is the server's too.)
      if (typeof e?.message === 'string' && typeof e.code === 'string') return { reason: { code: e.code, message: e.message }, before: b.subarray(0, Math.max(0, start - 1)) };
    } catch {
      // a capture's line, or a line cut short: no reason given
    }
    return { reason: null, before: b };
  }
}

/** Bytes read ahead of the output at most; past them reading waits (and a reason may then be lost). */
const READ_AHEAD_BYTES = 4 * 1024 * 1024;

export class ExportReader {
  readonly tail = new ExportTail();
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private ended = false;
  private failure: unknown = null;
  private wake: (() => void) | null = null;
  private room: (() => void) | null = null;

  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {
    void this.run();
  }

  private async run() {
    try {
      for (;;) {
        const { done, value } = await this.reader.read();
        if (done) break;
        const now = this.tail.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        if (now.length) {
          this.chunks.push(now);
          this.bytes += now.length;
          this.signal();
        }
        while (this.bytes > READ_AHEAD_BYTES && !this.ended) await new Promise<void>((r) => (this.room = r));
      }
    } catch (e) {
      this.failure = e;
    }
    this.ended = true;
    this.signal();
  }

  private signal() {
    this.wake?.();
    this.wake = null;
  }

  /** The next bytes to write out; null once all came. Throws the answer's failure once what came before it is taken. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const c = this.chunks.shift();
      if (c) {
        this.bytes -= c.length;
        if (this.bytes <= READ_AHEAD_BYTES) this.room?.();
        return c;
      }
      if (this.ended) {
        if (this.failure) throw this.failure;
        return null;
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  /** Stop reading (the output failed). */
  cancel() {
    this.ended = true;
    this.room?.();
    void this.reader.cancel().catch(() => {});
  }
}
