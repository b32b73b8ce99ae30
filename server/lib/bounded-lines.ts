// Lines of a byte stream, each read whole but never past a cap. readline builds each line as
// one string however long it gets: a body with no newline grew memory with it until V8's
// string limit threw inside readline's data handler, uncaught, and the process died.

/** A line ran past the cap: reading stopped there, with the rest of it unread. */
export class LineTooLongError extends Error {
  constructor(
    /** 1-based. */
    readonly lineNo: number,
    readonly maxBytes: number,
  ) {
    super(`line ${lineNo} is longer than ${maxBytes} bytes`);
  }
}

export interface Line {
  /** 1-based, counting blank lines. */
  lineNo: number;
  /** UTF-8, without its line break ("\n" or "\r\n"); the first without a byte order mark. */
  text: string;
}

/**
 * The lines of `input`, split at "\n". A line's bytes are held until it ends, at most
 * `maxLineBytes` of them: one longer throws LineTooLongError as soon as it passes the cap.
 * Reading goes at the consumer's pace (the next chunk is read when the lines before it are done).
 */
export async function* boundedLines(input: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let held = 0;
  let lineNo = 1;
  const text = (bytes: Buffer): string => {
    // "\n" never occurs inside a multi-byte UTF-8 character, so a line decodes on its own.
    const end = bytes.length && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
    // A byte order mark (editors on Windows write one) starts the text, not its first line.
    const start = lineNo === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    return bytes.toString('utf8', start, Math.max(start, end));
  };
  for await (const chunk of input) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      // The "\r" of a "\r\n" counts too: a byte of slack is not worth a special case.
      if (held + end - start > maxLineBytes) throw new LineTooLongError(lineNo, maxLineBytes);
      if (nl === -1) {
        if (end > start) {
          // Copied: a slice would keep the whole chunk alive for its tail.
          parts.push(Buffer.from(chunk.subarray(start, end)));
          held += end - start;
        }
        break;
      }
      const piece = chunk.subarray(start, end);
      const bytes = parts.length ? Buffer.concat([...parts, piece]) : piece;
      parts = [];
      held = 0;
      yield { lineNo, text: text(bytes) };
      lineNo++;
      start = nl + 1;
    }
  }
  if (held) yield { lineNo, text: text(Buffer.concat(parts)) };
}
