// Which part of a bin's response settings answered an attempt, and which other requests used
// the bin's plan just before it: with a shared plan ("500 x3 then 200"), a Test event or
// another delivery can use up the steps a delivery was expected to meet.
import type { PlanUse, RequestItem } from '../../shared/api.ts';
import type { RequestLog } from '../store/types.ts';

/** How far back to look, and how many of those to name. */
const SCAN = 50;
const NAMED = 10;

export function requestLabel(r: RequestItem): string {
  const d = r.dispatch;
  if (d) return `${d.event ?? 'event'} · attempt ${d.attempt ?? '?'}`;
  return `${r.method} ${r.path}`;
}

export async function planUseOf(requests: RequestLog, binId: string, captureId: string, deliveryId: string): Promise<PlanUse | null> {
  // Reads of the in-memory list: the capture itself (ids have one length, so "before id + NUL"
  // starts with it), and only when a plan step answered it, the ones just before it, newest first.
  const before = `${captureId}\u0000`;
  const [me] = await requests.items(binId, { limit: 1, before });
  if (me?.id !== captureId) return null;
  const a = me.answer;
  const others: PlanUse['others'] = [];
  let count = 0;
  const mine = a.planUses;
  if (mine !== undefined && mine > 0) {
    const rows = await requests.items(binId, { limit: SCAN, before: captureId });
    // Newest first: stop at this delivery's previous attempt, or where the plan's count says
    // an earlier run of it (before a reset) begins.
    for (const r of rows) {
      if (r.dispatch?.deliveryId === deliveryId) break;
      const u = r.answer.planUses;
      if (u === undefined || u === 0 || u > mine) break;
      if (r.answer.source === 'step') {
        count++;
        if (others.length < NAMED) others.push({ requestId: r.id, label: requestLabel(r) });
        if (u === 1) break;
      }
    }
  }
  // The draw too: a probability step that missed was answered by the default response.
  return { source: a.source, index: a.index, roll: a.roll, others, othersCount: count };
}
