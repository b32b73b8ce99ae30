// The live encoder: an event argument given as JSON text (RawJson, a capture's row from the
// capture feed) goes out exactly as Socket.IO's own encoder would write the parsed value, so
// any socket.io client reads it; elsewhere it stringifies as its value.
import { Decoder, Encoder, PacketType } from 'socket.io-parser';
import { describe, expect, it } from 'vitest';
import { jsonOnlyParser, RawJson } from '../../server/live/parser.ts';

const row = { id: '0abc', seq: 3, method: 'POST', path: '/a "quoted" \u00e9 path', size: 12, answer: { status: 200, fault: null } };

describe('live encoder', () => {
  it('writes a RawJson argument as the standard encoder writes its value (namespace, ack id, unicode)', () => {
    const ours = new jsonOnlyParser.Encoder();
    const standard = new Encoder();
    for (const base of [{ nsp: '/' }, { nsp: '/admin' }, { nsp: '/', id: 7 }]) {
      const packet = { type: PacketType.EVENT, ...base };
      const raw = ours.encode({ ...packet, data: ['request', new RawJson(JSON.stringify(row))] });
      expect(raw).toEqual(standard.encode({ ...packet, data: ['request', row] }));
      expect(ours.encode({ ...packet, data: ['request', row] })).toEqual(raw);
    }
  });

  it('decodes back to the value; stringified elsewhere, a RawJson is its value', async () => {
    const [text] = new jsonOnlyParser.Encoder().encode({ type: PacketType.EVENT, nsp: '/', data: ['request', new RawJson(JSON.stringify(row))] });
    const decoder = new Decoder();
    const got = new Promise((resolve) => decoder.on('decoded', resolve));
    decoder.add(text as string);
    expect(await got).toMatchObject({ type: PacketType.EVENT, data: ['request', row] });
    expect(JSON.parse(JSON.stringify({ r: new RawJson(JSON.stringify(row)) }))).toEqual({ r: row });
  });
});
