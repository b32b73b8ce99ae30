// A segment's metadata as an append-only journal, bins/<binId>/<n>.log, one JSON line each:
//   {"v":4,"binId":..,"segment":n}   first line
//   {"r":{..record..}}               a request written, or rewritten whole (last wins)
//   {"p":"<id>","a":{..fields..}}    a written request's annotations changed (a forward's
//                                    result, a verdict): only the fields that changed
//   {"d":"<id>"}                     a request deleted
//   {"m":["<id>",seq]}               the bin's eviction mark then (newest id and number evicted)
// A flush appends what changed in proportion to it, instead of rewriting the whole segment's
// metadata through a temp file and a rename each time (which cost several file operations per
// segment per flush). A line a crash cut short is cut off at load. Version 2 segments
// (<n>.json, rewritten whole) still load, and become a log at their next write; version 3
// logs (no "p" lines) load as they are.
import { jsonLineProblem } from '../../lib/json-problem.ts';
import type { Annotations, StoredRequest } from '../types.ts';

export const SEGMENT_LOG_VERSION = 4;
const READS = new Set([3, SEGMENT_LOG_VERSION]);

/** A request's metadata as written: where its body is in the segment's body file. */
export type DiskRecord = StoredRequest & { bodyOffset: number };

export interface SegmentLogState {
  records: Map<string, DiskRecord>;
  evictedThrough: string;
  evictedSeq: number;
  /** Bytes up to the end of the last whole line (what follows is a torn write). */
  end: number;
  lines: number;
}

export const headerLine = (binId: string, segment: number) => JSON.stringify({ v: SEGMENT_LOG_VERSION, binId, segment }) + '\n';
export const recordLine = (r: DiskRecord) => `{"r":${JSON.stringify(r)}}\n`;
/**
 * A change to a written request: only what changed, so a forward's result does not write its
 * capture's headers again. Null when the change clears a field (JSON has no undefined):
 * then the whole record is written instead.
 */
export function patchLine(id: string, change: Partial<Annotations>): string | null {
  for (const k in change) if (change[k as keyof Annotations] === undefined) return null;
  return `{"p":${JSON.stringify(id)},"a":${JSON.stringify(change)}}\n`;
}
export const deleteLine = (id: string) => `{"d":${JSON.stringify(id)}}\n`;
export const markLine = (evictedThrough: string, evictedSeq: number) => `{"m":${JSON.stringify([evictedThrough, evictedSeq])}}\n`;

/** Read a segment log. Throws a message (for DataFileError) when a whole line is unusable. */
export function parseSegmentLog(bytes: Buffer): SegmentLogState {
  const end = bytes.lastIndexOf(0x0a) + 1;
  const lines = bytes.subarray(0, end).toString('utf8').split('\n');
  const st: SegmentLogState = { records: new Map(), evictedThrough: '', evictedSeq: 0, end, lines: 0 };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    let l: { v?: unknown; r?: DiskRecord; p?: string; a?: Partial<Annotations>; d?: string; m?: [string, number] };
    try {
      l = JSON.parse(line);
    } catch {
      // Where, not what: JSON.parse's message quotes the line (a capture's headers).
      throw new Error(`line ${i + 1} is not valid JSON (${jsonLineProblem(line)})`);
    }
    st.lines++;
    if (st.lines === 1) {
      if (!READS.has(l.v as number)) throw new Error(`unknown format version ${JSON.stringify(l.v)}`);
    } else if (l.r) st.records.set(l.r.id, l.r);
    else if (typeof l.p === 'string' && l.a && typeof l.a === 'object') {
      // A change to a request deleted since (or evicted) finds nothing: dropped.
      const r = st.records.get(l.p);
      if (r) st.records.set(l.p, Object.assign(Object.assign({}, r), l.a));
    }
    else if (typeof l.d === 'string') st.records.delete(l.d);
    else if (Array.isArray(l.m)) {
      if (l.m[0] > st.evictedThrough) st.evictedThrough = l.m[0];
      st.evictedSeq = Math.max(st.evictedSeq, l.m[1] ?? 0);
    } else throw new Error(`line ${i + 1} is not a segment entry`);
  }
  if (end > 0 && st.lines === 0) throw new Error('no header line');
  return st;
}
