// The clock bar's deadline line. Each webhook's own schedule (a preset, a list of waits, a
// deadlineMs) may set another deadline than the server's: the line said the server's default
// as if it were every webhook's ("24 h" beside a webhook whose timeline ended at 20 min).
import type { Webhook } from '../../../shared/api.ts';
import { deadlineOf } from '../../../shared/schedule-resolve.ts';
import { formatDuration } from './format.ts';

/** Names shown per deadline before "+N more". */
const NAMES = 2;

export function deadlineWords(webhooks: readonly Pick<Webhook, 'name' | 'enabled' | 'schedule'>[], defaultMs: number | null): string {
  if (defaultMs === null) return '';
  // Only enabled webhooks make deliveries.
  const on = webhooks.filter((w) => w.enabled);
  const byMs = new Map<number, string[]>();
  for (const w of on) {
    const ms = deadlineOf(w.schedule, defaultMs);
    byMs.set(ms, [...(byMs.get(ms) ?? []), w.name]);
  }
  if (byMs.size === 0 || (byMs.size === 1 && byMs.has(defaultMs))) return `Deadline: ${formatDuration(defaultMs)} after each event (server default)`;
  if (byMs.size === 1) return `Deadline: ${formatDuration([...byMs.keys()][0])} after each event`;
  const groups = [...byMs.entries()].sort((a, b) => a[0] - b[0]).map(([ms, names]) => {
    const shown = names.slice(0, NAMES).join(', ') + (names.length > NAMES ? ` +${names.length - NAMES} more` : '');
    return `${formatDuration(ms)} (${shown})`;
  });
  return `Deadlines after each event: ${groups.join(', ')}`;
}
