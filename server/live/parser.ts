// Socket.IO's encoder scans every outgoing event recursively for binary data before
// stringifying it. hooklab only ever emits JSON, so skip the scan: the wire format is the
// standard one and any socket.io client reads it.
import { Decoder, Encoder } from 'socket.io-parser';

type Packet = Parameters<Encoder['encode']>[0];

class JsonOnlyEncoder extends Encoder {
  override encode(obj: Packet) {
    // encodeAsString is the parser's own text encoding (private in its typings, public in
    // its code since 4.0; the version is pinned in package.json).
    return [(this as unknown as { encodeAsString(p: Packet): string }).encodeAsString(obj)];
  }
}

export const jsonOnlyParser = { Encoder: JsonOnlyEncoder, Decoder };
