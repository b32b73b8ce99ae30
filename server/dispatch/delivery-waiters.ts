// Waiters of GET /api/deliveries/:id/wait: resolved when a delivery reaches a state.
import type { Delivery } from '../../shared/api.ts';

export type WaitState = 'delivered' | 'failed' | 'cancelled' | 'done';

export const reached = (d: Delivery, want: WaitState) => (want === 'done' ? d.state !== 'pending' : d.state === want);

export class DeliveryWaiters {
  private readonly byId = new Map<string, Set<(d: Delivery) => void>>();

  add(id: string, onChange: (d: Delivery) => void): () => void {
    let set = this.byId.get(id);
    if (!set) this.byId.set(id, (set = new Set()));
    set.add(onChange);
    return () => {
      set.delete(onChange);
      if (set.size === 0 && this.byId.get(id) === set) this.byId.delete(id);
    };
  }

  wants(id: string): boolean {
    return this.byId.has(id);
  }

  changed(d: Delivery): void {
    const set = this.byId.get(d.id);
    if (set) for (const f of [...set]) f(d);
  }
}
