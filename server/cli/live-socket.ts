// The live connection of `hooklab tail` and `hooklab forward`: a WebSocket first, long-polling
// where no WebSocket gets through (shared/live-transport.ts), and never silent about the link:
// a lost connection, a server it cannot reach and the reconnect are each said once, on stderr.
import { io, type Socket } from 'socket.io-client';
import { fallBackWhenDropped, liveTransportOptions } from '../../shared/live-transport.ts';
import { type Conn, CliError, EXIT } from './client.ts';

/** `onFatal`: the server wants a token (retrying cannot help). */
export function openLiveSocket(c: Conn, onFatal: (err: CliError) => void): Socket {
  // The token goes with the handshake too (a header): the server refuses one without it
  // before making a session, so the auth payload alone no longer gets in.
  const socket = io(c.server, {
    ...liveTransportOptions(),
    auth: c.token ? { token: c.token } : undefined,
    extraHeaders: c.token ? { authorization: `Bearer ${c.token}` } : undefined,
    reconnectionDelayMax: 5000,
  });
  fallBackWhenDropped(socket);
  // Said once per outage: a retry every few seconds would flood the terminal.
  const say = (line: string) => process.stderr.write(`${line}\n`);
  let down = false;
  let connected = false;
  socket.on('connect', () => {
    if (down) say(`${connected ? 'reconnected' : 'connected'} to ${c.server}`);
    down = false;
    connected = true;
  });
  socket.on('disconnect', (reason) => {
    if (!socket.active || down) return; // our own close, or already said
    down = true;
    say(`lost the connection to ${c.server} (${reason}); reconnecting`);
  });
  socket.on('connect_error', (e) => {
    // A handshake refused with 401 (its status is the error's description), or by Socket.IO.
    if (/unauthorized/.test(e.message) || (e as { description?: unknown }).description === 401) {
      const what = c.token ? 'refused the access token given (--token or HOOKLAB_TOKEN)' : 'wants an access token: pass --token or set HOOKLAB_TOKEN';
      return onFatal(new CliError(`${c.server} ${what}`, EXIT.server));
    }
    if (down) return;
    down = true;
    say(`cannot reach ${c.server} (${e.message}); retrying`);
  });
  return socket;
}
