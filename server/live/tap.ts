// LiveBus taps: a bus that also tells someone else about one kind of event (delivery changes
// for the wait API's delivery waiters; settings changes for the other instances), so the
// code that emits them needs to know about neither.
import type { Delivery, SettingsKind } from '../../shared/api.ts';
import type { LiveBus } from './bus.ts';

/** Every method passed straight on (the taps below replace one each). */
function forwardAll(bus: LiveBus): LiveBus {
  return {
    wants: (binId) => bus.wants(binId),
    requestCaptured: (r, evicted) => bus.requestCaptured(r, evicted),
    requestUpdated: (r) => bus.requestUpdated(r),
    requestDetailChanged: (binId, id) => bus.requestDetailChanged(binId, id),
    requestsDeleted: (binId, ids) => bus.requestsDeleted(binId, ids),
    requestsEvicted: (binId, ids, everywhere) => bus.requestsEvicted(binId, ids, everywhere),
    settingsChanged: (binId, kind, etag) => bus.settingsChanged(binId, kind, etag),
    binUpdated: (b) => bus.binUpdated(b),
    binDeleted: (id) => bus.binDeleted(id),
    responsePosition: (binId, p) => bus.responsePosition(binId, p),
    deliveryChanged: (d) => bus.deliveryChanged(d),
    webhookChanged: (w) => bus.webhookChanged(w),
    webhookDeleted: (id, cancelling) => bus.webhookDeleted(id, cancelling),
    runChanged: (r) => bus.runChanged(r),
    clockChanged: (c) => bus.clockChanged(c),
    close: () => bus.close(),
  };
}

export function tapDeliveries(bus: LiveBus, onDelivery: (d: Delivery) => void): LiveBus {
  return {
    ...forwardAll(bus),
    deliveryChanged: (d) => {
      onDelivery(d);
      bus.deliveryChanged(d);
    },
  };
}
/** A LiveBus that also tells someone else when a bin's settings were replaced (the cluster). */
export function tapSettings(bus: LiveBus, onSettings: (binId: string, kind: SettingsKind) => void): LiveBus {
  return {
    ...forwardAll(bus),
    settingsChanged: (binId, kind, etag) => {
      onSettings(binId, kind);
      bus.settingsChanged(binId, kind, etag);
    },
  };
}
