// Records on disk as an append-only journal (DATA_DIR/deliveries.log, DATA_DIR/responses.log),
// one JSON line per change: a new record in full, then only the fields that changed (by
// reference: records are immutable, so an unchanged field is the same object), and for a list
// that only grows (a delivery's attempts) just the items added. A flush appends the lines of
// its interval, so the bytes written follow the changes, not the number of records kept. When
// the journal has grown past twice what it describes, it is rewritten as one line per record
// (temp file, then rename): amortised, that is a constant factor. A line a crash cut short (or
// zero bytes a power cut left at the end) is dropped at load, and start-up says so.
//
// Every journal begins with a first line of its own ({"journal":"hooklab","v":1}), written with
// its first records and by every compaction, so that a journal of nothing is that one line and
// an empty file is never one hooklab wrote: it was emptied (damage, a bad restore), and start-up
// says its records are lost rather than start as if there had been none. (Journals of earlier
// builds have no such line and still load; one they left empty is said once, then given it.)
import { type FileHandle, rename, rm } from 'node:fs/promises';
import type { RecordChanges } from '../collections.ts';
import { jsonLineProblem } from '../../lib/json-problem.ts';
import { DataFileError, fileSize, openForWrite, readAt, truncateTo, unreadable, writeAt, writeFileAt } from './files.ts';

type Line<T> = { put: T } | { id: string; set?: Partial<T>; add?: unknown[] } | { del: string };

/** The journal's first line (see the top). */
const FIRST_LINE = `${JSON.stringify({ journal: 'hooklab', v: 1 })}\n`;
const isFirstLine = (l: object) => (l as { journal?: unknown }).journal === 'hooklab';

/** Compaction threshold: journal bytes beyond this factor of the live size (plus slack). */
const COMPACT_FACTOR = 2;
const COMPACT_SLACK = 1024 * 1024;

export interface RecordJournalOptions<T> {
  file: string;
  /** The records kept now (what a compaction writes). */
  current: () => Iterable<T>;
  onDirty: () => void;
  /** A list field that only grows: its new items are appended as `add` (deliveries' attempts). */
  appendOnly?: keyof T & string;
  /**
   * Throws unless DATA_DIR is the directory hooklab started on: asked before the file is
   * opened (with O_CREAT) or written anew, so an unmounted volume's mount point gets none.
   */
  checkDir?: () => Promise<void>;
}

export class RecordJournal<T extends { id: string }> implements RecordChanges<T> {
  /** Lines not yet written (objects: stringified at flush, once). */
  private queued: Line<T>[] = [];
  private size = 0;
  /** Approximate bytes each record takes in a compacted journal. */
  private readonly liveBytes = new Map<string, number>();
  private liveTotal = 0;
  private compactWanted = false;
  /** Kept open between appends (a flush every FLUSH_INTERVAL_MS). */
  private fh: FileHandle | null = null;

  private readonly file: string;
  /** The journal's file. */
  get path(): string {
    return this.file;
  }

  constructor(private readonly o: RecordJournalOptions<T>) {
    this.file = o.file;
  }

  get hasDirty(): boolean {
    return this.queued.length > 0 || this.compactWanted;
  }

  put(prev: T | undefined, next: T): void {
    if (!prev) this.queued.push({ put: next });
    else {
      const line: { id: string; set?: Partial<T>; add?: unknown[] } = { id: next.id };
      const set: Record<string, unknown> = {};
      let any = false;
      const list = this.o.appendOnly;
      // Records are immutable: an unchanged field is the same reference.
      for (const k of Object.keys(next) as (keyof T & string)[]) {
        if (k === list || next[k] === prev[k]) continue;
        set[k] = next[k];
        any = true;
      }
      if (list && next[list] !== prev[list]) {
        const a = prev[list] as unknown[];
        const b = next[list] as unknown[];
        const grows = b.length >= a.length && a.every((x, i) => b[i] === x);
        if (grows) line.add = b.slice(a.length);
        else {
          set[list] = b;
          any = true;
        }
      }
      if (any) line.set = set as Partial<T>;
      if (!line.set && !line.add?.length) return;
      this.queued.push(line);
    }
    this.o.onDirty();
  }

  removed(id: string): void {
    this.queued.push({ del: id });
    this.o.onDirty();
  }

  /**
   * Write a removal now, after what is queued (it is a deletion's record: the API answers only
   * once it is on disk). When it did not get written it is withdrawn, never written later, and
   * this throws: the caller then undoes the removal, so that a 503 means nothing changed.
   */
  async removeNow(id: string): Promise<void> {
    const line: Line<T> = { del: id };
    // Last of the write: a write cut short (disk full) then never holds this line whole.
    this.queued.push(line);
    try {
      await this.flush();
    } catch (err) {
      const i = this.queued.indexOf(line);
      // Not queued again: it was written, and only the compaction after it failed (retried with the next flush).
      if (i === -1) return;
      this.queued.splice(i, 1);
      throw err;
    }
  }

  /** Append what changed; compact when the journal has grown too large. */
  async flush(): Promise<void> {
    if (this.queued.length === 0 && !this.compactWanted) return;
    const lines = this.queued;
    this.queued = [];
    const strs = lines.map((l) => JSON.stringify(l) + '\n');
    // A journal's first write begins it with its first line.
    const buf = Buffer.from((this.size === 0 && strs.length ? FIRST_LINE : '') + strs.join(''));
    try {
      if (buf.length) {
        // The file must be the one we wrote: one removed under us (while kept open, writes
        // would vanish; once closed, they would land after a hole) is written anew from
        // memory, everything queued included.
        if (!this.fh) {
          await this.o.checkDir?.();
          this.fh = await openForWrite(this.file);
        }
        const fh = this.fh;
        const st = await fh.stat();
        if (st.nlink === 0 || st.size < this.size) {
          this.closeFile();
          await this.compact();
          return;
        }
        // Longer than we know: the tail of a write that failed (a full disk) is cut, not kept
        // (a rewrite would need the space a full disk lacks, and a deletion must not).
        if (st.size > this.size) await fh.truncate(this.size);
        await writeAt(fh, [buf], this.size);
      }
    } catch (err) {
      this.queued = lines.concat(this.queued);
      this.closeFile(); // opened afresh next time
      throw err;
    }
    this.size += buf.length;
    // Bytes, as the file's size is (a non-ASCII record's characters undercount it).
    for (let i = 0; i < lines.length; i++) this.account(lines[i], Buffer.byteLength(strs[i]));
    if (this.compactWanted || this.size > COMPACT_FACTOR * this.liveTotal + COMPACT_SLACK) await this.compact();
  }

  private account(l: Line<T>, len: number) {
    if ('del' in l) {
      this.liveTotal -= this.liveBytes.get(l.del) ?? 0;
      this.liveBytes.delete(l.del);
      return;
    }
    // A record compacted is one `put` line. A `put` is the record whole: its bytes replace what
    // was counted. `add` items make it longer by about their line. A `set` replaces fields with
    // others of about their size: counted as adding, a record only ever updated (a plan's
    // position per request, a webhook's failure streak) kept its journal from ever compacting.
    if ('put' in l) {
      const prev = this.liveBytes.get(l.put.id) ?? 0;
      this.liveBytes.set(l.put.id, len);
      this.liveTotal += len - prev;
      return;
    }
    if (!l.add?.length) return;
    const prev = this.liveBytes.get(l.id);
    if (prev === undefined) return; // pruned earlier
    this.liveBytes.set(l.id, prev + len);
    this.liveTotal += len;
  }

  /** Rewrite the journal as one line per record kept. */
  async compact(): Promise<void> {
    this.compactWanted = true;
    await this.o.checkDir?.();
    const tmp = `${this.file}.tmp`;
    this.liveBytes.clear();
    this.liveTotal = 0;
    const parts: Buffer[] = [Buffer.from(FIRST_LINE)];
    let total = parts[0].length;
    for (const d of this.o.current()) {
      const b = Buffer.from(JSON.stringify({ put: d }) + '\n');
      parts.push(b);
      this.liveBytes.set(d.id, b.length);
      this.liveTotal += b.length;
      total += b.length;
    }
    await rm(tmp, { force: true });
    await writeFileAt(tmp, parts, 0);
    this.closeFile(); // the old file is replaced
    await rename(tmp, this.file);
    this.size = total;
    this.compactWanted = false;
  }

  closeFile(): void {
    const fh = this.fh;
    this.fh = null;
    void fh?.close().catch(() => {});
  }

  /** What load() found after the last whole line (cut by cutTornTail()), or null. */
  private torn: { bytes: number; zeros: boolean } | null = null;
  /** load() found the file empty (see the top); for start-up to say, once. */
  private foundEmpty = false;

  /**
   * Read the journal. What follows the last whole line (a line a crash cut short, or zero bytes
   * a power cut left) is not read, and not yet cut either: cutTornTail() does that once start-up
   * found nothing to refuse (a refusal touches nothing). Null: no journal.
   */
  async load(): Promise<T[] | null> {
    await rm(`${this.file}.tmp`, { force: true });
    let bytes: Buffer;
    try {
      const size = await fileSize(this.file);
      if (size < 0) return null;
      bytes = size > 0 ? await readAt(this.file, 0, size) : Buffer.alloc(0);
    } catch (err) {
      throw unreadable(this.file, err);
    }
    const size = bytes.length;
    this.foundEmpty = size === 0;
    const end = bytes.lastIndexOf(0x0a) + 1;
    const text = bytes.subarray(0, end).toString('utf8');
    const map = new Map<string, T>();
    const list = this.o.appendOnly;
    let lineNo = 0;
    for (const line of text.split('\n')) {
      lineNo++;
      if (!line) continue;
      let l: Line<T>;
      try {
        l = JSON.parse(line) as Line<T>;
      } catch {
        // Where, not what: JSON.parse's message quotes the line, which may hold secrets.
        throw new DataFileError(this.file, `line ${lineNo} is not valid JSON (${jsonLineProblem(line)})`);
      }
      if (isFirstLine(l)) continue;
      if ('put' in l) map.set(l.put.id, l.put);
      else if ('del' in l) map.delete(l.del);
      else if (typeof l.id === 'string') {
        const cur = map.get(l.id);
        if (!cur) continue; // pruned earlier
        const next: T = { ...cur, ...l.set };
        if (list && l.add?.length) (next as Record<string, unknown>)[list] = [...((l.set?.[list] ?? cur[list]) as unknown[]), ...l.add];
        map.set(l.id, next);
      } else throw new DataFileError(this.file, `line ${lineNo} is not a journal entry`);
      this.account(l, Buffer.byteLength(line) + 1);
    }
    this.torn = end < size ? { bytes: size - end, zeros: bytes[size - 1] === 0 } : null;
    this.size = end;
    return [...map.values()];
  }

  /**
   * Whether load() found the file empty, which hooklab never leaves one (see the top): asked
   * once, and the file then gets its first line, so the next start does not say it again.
   */
  async takeFoundEmpty(): Promise<boolean> {
    if (!this.foundEmpty) return false;
    this.foundEmpty = false;
    // Best effort: a disk that cannot take the line now (full, read-only) must not stop the
    // start; the next start then says it again.
    await this.compact().catch(() => {});
    return true;
  }

  /**
   * Cut what load() found after the last whole line; answers what was cut (null: nothing), for
   * start-up to say so. (Left there, the next append would cut it anyway.)
   */
  async cutTornTail(): Promise<{ bytes: number; zeros: boolean } | null> {
    const torn = this.torn;
    if (!torn) return null;
    this.torn = null;
    await truncateTo(this.file, this.size);
    // Nothing whole was left (all zeros, say): it gets its first line, not to be found empty next time.
    if (this.size === 0) await this.compact().catch(() => {}); // best effort, as in takeFoundEmpty
    return torn;
  }
}
