// A LiveBus that also tells someone else about delivery changes (the wait API's delivery
// waiters), so the dispatcher needs to know about neither.
import type { Delivery } from '../../shared/api.ts';
import type { LiveBus } from './bus.ts';

export function tapDeliveries(bus: LiveBus, onDelivery: (d: Delivery) => void): LiveBus {
  return {
    wants: (binId) => bus.wants(binId),
    requestCaptured: (r, evicted) => bus.requestCaptured(r, evicted),
    requestUpdated: (r) => bus.requestUpdated(r),
    requestsDeleted: (binId, ids) => bus.requestsDeleted(binId, ids),
    settingsChanged: (binId, kind, etag) => bus.settingsChanged(binId, kind, etag),
    binUpdated: (b) => bus.binUpdated(b),
    binDeleted: (id) => bus.binDeleted(id),
    responsePosition: (binId, p) => bus.responsePosition(binId, p),
    deliveryChanged: (d) => {
      onDelivery(d);
      bus.deliveryChanged(d);
    },
    webhookChanged: (w) => bus.webhookChanged(w),
    webhookDeleted: (id) => bus.webhookDeleted(id),
    runChanged: (r) => bus.runChanged(r),
    clockChanged: (c) => bus.clockChanged(c),
    close: () => bus.close(),
  };
}
