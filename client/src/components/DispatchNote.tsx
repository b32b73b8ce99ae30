// On a capture hooklab's dispatcher sent: which delivery, event and attempt it was, and the
// attempt's virtual time next to the wall-clock arrival above it. The x-hooklab-* headers say
// so; the delivery is looked up to confirm it (anyone can send such headers) and to add why
// the attempt went when it did.
import { useEffect, useState } from 'preact/hooks';
import type { Delivery, DispatchLabel } from '../../../shared/api.ts';
import { api } from '../lib/api.ts';
import { formatDate, formatClock } from '../lib/format.ts';
import { Link } from '../lib/router.ts';
import { REASON_LABEL } from '../lib/timeline.ts';

const virtual = (iso: string) => `${formatDate(iso)} ${formatClock(iso)}`;

export function DispatchNote({ label, requestId }: { label: DispatchLabel; requestId: string }) {
  const [del, setDel] = useState<Delivery | null | 'missing'>(null);
  useEffect(() => {
    let alive = true;
    api.getDelivery(label.deliveryId).then(
      (d) => alive && setDel(d),
      () => alive && setDel('missing'),
    );
    return () => {
      alive = false;
    };
  }, [label.deliveryId]);
  const a = del && del !== 'missing' ? del.attempts.find((x) => x.capturedRequestId === requestId || (x.n === label.attempt && label.virtualAt === x.sentAt)) : undefined;
  return (
    <div data-testid="dispatch-note">
      <dt>Dispatcher</dt>
      <dd>
        <strong>
          {label.event ?? 'event'} · attempt {label.attempt ?? '?'}
        </strong>
        {label.virtualAt && <> at {virtual(label.virtualAt)} virtual</>}
        {a?.reason && (
          <span class="muted">
            {' '}
            ({REASON_LABEL[a.reason]}
            {a.reasonDetail ? `: ${a.reasonDetail}` : ''})
          </span>
        )}
        <div class="muted small">
          delivery <code>{label.deliveryId}</code>
          {del === 'missing' && ' (not one of this hooklab’s deliveries: the headers may have come from elsewhere)'}
          {del && del !== 'missing' && (
            <>
              {' '}
              to {del.webhookName}, {del.state} · <Link href="/dispatcher">open the dispatcher</Link>
            </>
          )}
        </div>
      </dd>
    </div>
  );
}
