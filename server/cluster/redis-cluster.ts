// What several hooklab instances on one Redis share besides the store: the Socket.IO adapter
// (a capture received by A reaches a viewer connected to B), and a small channel of notes
// between instances: a bin's settings changed (reload your copy), a bin was created, changed
// or deleted (forget what your receiver remembers of it), a webhook or delivery changed. The
// notes are hints that make things prompt; nothing depends on them for correctness: plans
// check their version in Redis, an append checks its bin still exists, and viewers catch up
// from the store through `subscribe {lastId}` after any outage. (Captures need no note: the
// capture feed, written by the append itself, tells every instance; see capture-feed.ts.)
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import type { SettingsKind } from '../../shared/api.ts';

/** `answered`: a proxied capture's answer was recorded (its waiters elsewhere hear of it then). */
export type NoteKind = SettingsKind | 'bin' | 'webhook' | 'delivery' | 'answered';

export interface ClusterOptions {
  url: string;
  prefix: string;
  /** Events kept in the adapter's stream (LIVE_STREAM_MAX_LEN); a viewer further behind backfills. */
  streamMaxLen: number;
  onError?: (err: unknown) => void;
}

export class RedisCluster {
  /** Publishes notes; the adapter's own connections are made from it. */
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly adapterClient: Redis;
  private readonly channel: string;
  private readonly handlers = new Map<NoteKind, ((binId: string, id: string) => void)[]>();
  /** This instance, so it skips its own notes. */
  private readonly origin = Math.random().toString(36).slice(2, 12);

  get url() {
    return this.o.url;
  }

  constructor(private readonly o: ClusterOptions) {
    // Plain clients that reconnect forever and queue while away: a note or an adapter read
    // that waits a moment is fine; the adapter's blocking reads must not hit a command timeout.
    const options = { lazyConnect: false, maxRetriesPerRequest: null, retryStrategy: (n: number) => Math.min(50 * n, 1000) };
    this.pub = new Redis(o.url, { ...options, connectionName: 'hooklab-notes' });
    this.sub = new Redis(o.url, { ...options, connectionName: 'hooklab-notes-sub' });
    this.adapterClient = new Redis(o.url, { ...options, connectionName: 'hooklab-live' });
    for (const c of [this.pub, this.sub, this.adapterClient]) c.on('error', (e) => o.onError?.(e));
    this.channel = `${o.prefix}notes`;
  }

  async start(): Promise<void> {
    await this.sub.subscribe(this.channel);
    this.sub.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const [origin, kind, binId, id = ''] = message.split(' ');
      if (origin === this.origin) return;
      for (const h of this.handlers.get(kind as NoteKind) ?? []) h(binId, id);
    });
  }

  /** The Socket.IO adapter: every instance's rooms, through one Redis stream. */
  adapter() {
    return createAdapter(this.adapterClient, {
      streamName: `${this.o.prefix}live`,
      maxLen: this.o.streamMaxLen,
      // Below the clients' reconnect pace, so a Redis restart resumes the stream promptly.
      blockTimeInMs: 2000,
    });
  }

  /** Tell the other instances. */
  note(kind: NoteKind, binId: string, id = ''): void {
    void this.pub.publish(this.channel, `${this.origin} ${kind} ${binId} ${id}`).catch((e) => this.o.onError?.(e));
  }

  on(kind: NoteKind, fn: (binId: string, id: string) => void): void {
    this.handlers.set(kind, [...(this.handlers.get(kind) ?? []), fn]);
  }

  async close(): Promise<void> {
    await Promise.all([this.pub, this.sub, this.adapterClient].map((c) => c.quit().catch(() => c.disconnect())));
  }
}
