// Socket.IO's encoder scans every outgoing event recursively for binary data before
// stringifying it. hooklab only ever emits JSON, so skip the scan: the wire format is the
// standard one and any socket.io client reads it.
import { Decoder, Encoder } from 'socket.io-parser';

type Packet = Parameters<Encoder['encode']>[0];

/**
 * An event's argument that is JSON text already (a capture's list row as the store wrote it,
 * from the capture feed): sent as it is rather than parsed and stringified again. Anywhere
 * else it is stringified (toJSON), it stands for its value.
 */
export class RawJson {
  constructor(readonly json: string) {}
  toJSON(): unknown {
    return JSON.parse(this.json);
  }
}

class JsonOnlyEncoder extends Encoder {
  override encode(obj: Packet) {
    // encodeAsString is the parser's own text encoding (private in its typings, public in
    // its code since 4.0; the version is pinned in package.json).
    const encode = (this as unknown as { encodeAsString(p: Packet): string }).encodeAsString.bind(this);
    const data: unknown = obj.data;
    if (Array.isArray(data) && data.length === 2 && data[1] instanceof RawJson) {
      // What encodeAsString writes for [name, value], with the value's text as it is.
      return [`${encode({ ...obj, data: undefined })}[${JSON.stringify(data[0])},${data[1].json}]`];
    }
    return [encode(obj)];
  }
}

export const jsonOnlyParser = { Encoder: JsonOnlyEncoder, Decoder };
