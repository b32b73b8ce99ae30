// hooklab fire: the reference dispatcher as a standalone sender, no server needed. It sends one
// Portable-shaped event to any URL the user names and retries failures on the webhook's
// schedule, with the virtual clock compressing it (--scale 86400: 24 h in about a second).
// Each attempt is printed as it goes; exit 0 when delivered, 1 when it gave up.
import { resolveSchedule } from '../../dispatch/schedule.ts';
import { scheduleRefusal } from '../../dispatch/schedule-limit.ts';
import type { Delivery, Subscription } from '../../../shared/api.ts';
import type { LiveBus } from '../../live/bus.ts';
import { USER_AGENT } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { VirtualClock } from '../../dispatch/clock.ts';
import { Dispatcher } from '../../dispatch/dispatcher.ts';
import { createSender } from '../../dispatch/send.ts';
import { applyWebhookInput, parseWebhookInput } from '../../dispatch/webhook-input.ts';
import { HttpError } from '../../http/errors.ts';
import { newId, sortableIdFactory } from '../../ids.ts';
import { RecordingBus } from '../../live/bus.ts';
import { MemoryStore } from '../../store/memory.ts';
import { iso } from '../../time.ts';
import { CliError, EXIT } from '../client.ts';
import { durationMs } from '../duration.ts';

export interface FireOptions {
  url: string;
  event: string;
  status: string;
  secret?: string;
  schedule?: string;
  scale: string;
  timeout?: string;
  json?: boolean;
}

const EVENTS = ['sync_start', 'sync_end', 'test'];

/** What the event needs the webhook to subscribe to (test events go to every webhook). */
function subscriptionFor(event: string, status: string): Subscription {
  if (event === 'sync_start') return 'flow_started';
  return status === 'FAILED' ? 'flow_failed' : 'flow_succeeded';
}

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${Math.round(ms / 100) / 10} s` : ms < 7_200_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 360_000) / 10} h`);

export async function fire(o: FireOptions): Promise<void> {
  if (!EVENTS.includes(o.event)) throw new CliError(`--event must be one of ${EVENTS.join(', ')}, got "${o.event}"`, EXIT.usage);
  const status = o.status.toUpperCase();
  if (status !== 'SUCCESSFUL' && status !== 'FAILED') throw new CliError(`--status must be SUCCESSFUL or FAILED, got "${o.status}"`, EXIT.usage);
  const scale = Number(o.scale);
  if (!Number.isFinite(scale) || scale < 0.001 || scale > 1e9) throw new CliError(`--scale must be a number from 0.001 to 1000000000, got "${o.scale}"`, EXIT.usage);
  const timeoutMs = o.timeout === undefined ? null : durationMs(o.timeout, '--timeout', '10s or 500ms');
  if (timeoutMs !== null && !(timeoutMs > 0)) throw new CliError(`--timeout must be a duration such as 10s or 500ms, got "${o.timeout}"`, EXIT.usage);

  let input;
  try {
    input = parseWebhookInput(
      {
        url: o.url,
        name: 'hooklab fire',
        events: [subscriptionFor(o.event, status)],
        ...(o.secret ? { secret: o.secret } : {}),
        ...(o.schedule ? { schedule: { preset: o.schedule } } : {}),
        ...(timeoutMs !== null ? { timeoutMs } : {}),
      },
      false,
    );
  } catch (e) {
    // The schema's message names the field: map it to the flag.
    const m = e instanceof HttpError ? e.message : String(e);
    throw new CliError(m.replace(/^url:/, '--url:').replace(/^secret:/, '--secret:').replace(/^schedule\.preset:/, '--schedule:').replace(/^timeoutMs:/, '--timeout:'), EXIT.usage);
  }

  // Same defaults as the server (RETRY_* and DISPATCH_* from the environment apply).
  const config = loadConfig(process.env);
  // A preset past a lowered MAX_SCHEDULE_ATTEMPTS: refused, as the API refuses it.
  const tooLong = input.schedule && scheduleRefusal(resolveSchedule(config.schedule, input.schedule), input.schedule, config.maxScheduleAttempts);
  if (tooLong) throw new CliError(`--schedule ${o.schedule}: ${tooLong.message.replace(/: [^:]*$/, '')}`, EXIT.usage);
  const store = new MemoryStore();
  const wall = () => Date.now();
  const clock = new VirtualClock(wall, null);
  clock.setScale(scale);
  // The URL is the user's own choice: no address policy (as the relay), and no redirects followed.
  const sender = createSender({ maxResponseBytes: config.dispatchMaxResponseBytes, policy: null });

  let done: (d: Delivery) => void = () => {};
  const finished = new Promise<Delivery>((r) => (done = r));
  const printed = new Map<string, number>();
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const live: LiveBus = Object.assign(new RecordingBus(), {
    deliveryChanged: (d: Delivery) => {
      const from = printed.get(d.id) ?? 0;
      for (const a of d.attempts.slice(from)) {
        if (o.json) out(JSON.stringify({ delivery: d.id, event: d.event, ...a, requestHeaders: undefined }));
        else {
          const what = a.status !== null ? `${a.status}${a.ok ? ' ok' : ''}` : `${a.error}${a.errorDetail ? ` (${a.errorDetail})` : ''}`;
          // A test goes at once, unscheduled: its offset would be the real ms it took to start,
          // times the clock's scale (1 ms showed as "+86.4 s" at x86400).
          const when = d.event === 'test' ? 'now' : `+${seconds(Date.parse(a.sentAt) - Date.parse(d.createdAt))} (virtual)`;
          out(`attempt ${a.n}  ${d.event}  ${when}  -> ${what}  ${Math.round(a.durationMs)} ms`);
        }
      }
      printed.set(d.id, d.attempts.length);
      if (d.state !== 'pending') done(d);
    },
  });

  const dispatcher = new Dispatcher({
    store,
    clock,
    realNow: wall,
    send: sender.send,
    live,
    schedule: config.schedule,
    maxAttempts: config.maxScheduleAttempts,
    timeoutMs: config.dispatchTimeoutMs,
    concurrency: 1,
    userAgent: USER_AGENT,
    newDeliveryId: sortableIdFactory(wall, 'dl_'),
    newMessageId: () => newId('msg'),
    newRunId: () => newId('run'),
    random: Math.random,
    onError: (err) => process.stderr.write(`hooklab: dispatcher error: ${String(err)}\n`),
  });
  const wh = applyWebhookInput(null, input, newId('wh'), iso(clock.now()));
  await store.webhooks.put(wh);
  await dispatcher.start();
  process.stderr.write(`firing ${o.event}${o.event === 'sync_end' ? ` (${status})` : ''} at ${wh.url}, clock x${scale}${o.schedule ? `, ${o.schedule} schedule` : ''}\n`);
  const stop = () => {
    void dispatcher.stop();
    sender.close();
  };
  process.once('SIGINT', () => {
    stop();
    process.exit(130);
  });
  try {
    if (o.event === 'test') {
      // One attempt, as the Test button: a test event is not retried.
      const r = await dispatcher.fireTest(wh.id);
      live.deliveryChanged(r.delivery);
    } else {
      await dispatcher.fireRun({ outcome: status, durationMs: 0 });
    }
    const d = await finished;
    if (d.state === 'delivered') {
      process.stderr.write(`delivered after ${d.attempts.length} attempt(s)\n`);
      return;
    }
    throw new CliError(`gave up after ${d.attempts.length} attempt(s): ${d.endDetail ?? d.endReason ?? d.state}`, EXIT.negative);
  } finally {
    stop();
  }
}
