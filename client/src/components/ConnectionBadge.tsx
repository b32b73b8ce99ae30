import { useConnection } from '../lib/socket.ts';

const TEXT = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' } as const;

export function ConnectionBadge() {
  const c = useConnection();
  const title =
    c.state === 'live'
      ? 'Connected: new requests and deliveries appear as they happen.'
      : c.state === 'reconnecting'
        ? `Connection lost${c.reason ? ` (${c.reason})` : ''}; retrying${c.attempt ? ` (attempt ${c.attempt})` : ''}. Missed requests are filled in on reconnect.`
        : c.state === 'offline'
          ? `Not connected${c.reason ? `: ${c.reason}` : ''}. Reload the page to try again.`
          : 'Connecting to the server…';
  return (
    <span class={`conn conn-${c.state}`} data-testid="connection" data-state={c.state} title={title} role="status" aria-live="polite">
      <span class="conn-dot" aria-hidden="true" />
      <span class="conn-text">{TEXT[c.state]}</span>
    </span>
  );
}
