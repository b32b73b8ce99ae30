// Helpers for dispatcher tests: step the virtual clock until a delivery settles.
import type { Delivery } from '../../shared/api.ts';
import { json } from './server.ts';

export async function deliveriesOf(base: string, query = ''): Promise<Delivery[]> {
  return (await json<{ deliveries: Delivery[] }>(base, 'GET', `/api/deliveries${query}`)).body.deliveries;
}

/** Wait (polling, no wall-clock bound of our own) until the predicate holds. */
export async function until<T>(f: () => Promise<T>, ok: (x: T) => boolean): Promise<T> {
  for (;;) {
    const x = await f();
    if (ok(x)) return x;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** advance {to: "next"} until the delivery is no longer pending. Answers it. */
export async function stepUntilDone(base: string, id: string, maxSteps = 500): Promise<Delivery> {
  for (let i = 0; i < maxSteps; i++) {
    const d = (await json<Delivery>(base, 'GET', `/api/deliveries/${id}`)).body;
    if (d.state !== 'pending') return d;
    await json(base, 'POST', '/api/clock/advance', { to: 'next' });
  }
  throw new Error(`delivery ${id} still pending after ${maxSteps} steps`);
}
