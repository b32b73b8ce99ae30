// Why a capture's answer never reached its sender (answer.hungUpAfterMs set), in words: one
// wording for the list row's tag, the status badge and the detail. Either the sender closed
// the connection first, or hooklab did for an earlier request's fault on the same connection
// (closedByFault: pipelined answers go in order, so the ones behind it could not go).
import type { AnswerOutcome } from '../../../shared/api.ts';
import { formatDuration } from './format.ts';

type NotSent = Pick<AnswerOutcome, 'status' | 'fault' | 'hungUpAfterMs' | 'closedByFault'>;

const earlier = (a: NotSent) => `an earlier request's ${a.closedByFault} on the same connection`;

/** The row's tag. */
export const notSentTag = (a: NotSent): string => (a.closedByFault ? 'not sent' : 'sender hung up');

/** The row tag's title. */
export function notSentTitle(a: NotSent): string {
  const after = formatDuration(a.hungUpAfterMs ?? 0);
  return a.closedByFault
    ? `hooklab closed the connection ${after} after this request arrived, for ${earlier(a)}, before this answer went: the sender never got it`
    : `The sender hung up ${after} after its request arrived, before the answer went: it never got it`;
}

/** The status badge's title and its words for screen readers. */
export function notSentBadge(a: NotSent): { title: string; sr: string } {
  return a.closedByFault
    ? { title: `${a.status} was to be sent, but hooklab closed the connection first, for ${earlier(a)}: the sender never got it`, sr: `, not sent: the connection was closed for ${earlier(a)}` }
    : { title: `${a.status} was to be sent, but the sender hung up first: it never got it`, sr: ', not sent: the sender hung up first' };
}

/** The detail's words, after what answered. */
export function notSentDetail(a: NotSent): string {
  const after = formatDuration(a.hungUpAfterMs ?? 0);
  if (a.closedByFault) return `— not sent: hooklab closed the connection ${after} after this request arrived, for ${earlier(a)} (answers go in request order)`;
  return a.fault === 'timeout'
    ? `— the sender gave up ${after} after its request arrived (a hang never answers)`
    : `— the sender hung up ${after} after its request arrived, before this answer went: it never got it`;
}
