// `hooklab import` tells a HAR from an NDJSON export by the file's first key, and lets the
// name decide when that key tells neither (a HAR tool that writes another key first).
import { describe, expect, it } from 'vitest';
import { formatOfContent, formatOfName } from '../../server/cli/import-format.ts';

const format = (file: string, head: string) => formatOfContent(head) ?? formatOfName(file);

describe('import format', () => {
  it('"log" first is a HAR and "id" first an export, whatever the name', () => {
    expect(format('export.json', '{"id":"01J","binId":"b"}\n{"id":"01K"}')).toBe('ndjson');
    expect(format('capture.txt', '\uFEFF  {\n  "log": {"version": "1.2"}}')).toBe('har');
  });

  it('another first key tells nothing: the name decides (a HAR with "_comment" first stays a HAR)', () => {
    expect(formatOfContent('{"_comment":"from a proxy","log":{}}')).toBeNull();
    expect(format('proxy.har', '{"_comment":"from a proxy","log":{}}')).toBe('har');
    expect(format('lines.ndjson', '{"method":"POST"}')).toBe('ndjson');
    expect(format('x.har', 'not json')).toBe('har');
  });
});
