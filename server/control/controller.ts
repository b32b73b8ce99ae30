// Holds each bin's response settings and plan position in memory, so a decision is one
// synchronous step: concurrent requests consume the plan exactly once each, in arrival order.
// Changes are written through to the store (coalesced there).
import type { ResponseConfig, ResponseControlView } from '../../shared/api.ts';
import type { LiveBus } from '../live/bus.ts';
import type { Store, StoredResponseControl } from '../store/types.ts';
import { type Decision, type RequestFacts, decide, initialPlanState, needsBody, positionOf } from './engine.ts';
import type { Control } from './control.ts';
import { type ControlLimits, defaultConfig, parseResponseConfig } from './validate.ts';

export class ResponseControl implements Control {
  private readonly byBin = new Map<string, StoredResponseControl>();
  /** Bins whose settings match on the JSON body: they decide once the body is in. */
  private readonly bodyBins = new Set<string>();
  private readonly defaultDecision: Decision;

  constructor(
    private readonly store: Store,
    private readonly live: LiveBus,
    readonly limits: ControlLimits,
    private readonly randomSeed: () => number,
  ) {
    this.defaultDecision = decide(defaultConfig(0), initialPlanState(defaultConfig(0)), { method: 'GET', path: '/', headers: [] }).decision;
  }

  async load(): Promise<void> {
    for (const r of await this.store.responses.list()) this.remember(r);
  }

  async view(binId: string): Promise<ResponseControlView> {
    return this.viewNow(binId);
  }

  private viewNow(binId: string): ResponseControlView {
    const r = this.byBin.get(binId);
    if (!r) {
      const config = defaultConfig(0);
      return { config, position: positionOf(initialPlanState(config)) };
    }
    // Settings saved before `cors` existed had it on (the default).
    return { config: { ...r.config, cors: r.config.cors !== false }, position: positionOf(r.state) };
  }

  /** Does this bin answer browsers on other origins (CORS)? On unless turned off. */
  cors(binId: string): boolean {
    return this.byBin.get(binId)?.config.cors !== false;
  }

  /** Validate and replace a bin's settings; the plan starts from its first step. Throws 400s. */
  async set(binId: string, input: unknown): Promise<ResponseControlView> {
    const config: ResponseConfig = parseResponseConfig(input, this.limits, this.randomSeed);
    await this.save({ id: binId, config, state: initialPlanState(config) });
    return this.viewNow(binId);
  }

  async reset(binId: string): Promise<ResponseControlView> {
    const r = this.byBin.get(binId);
    if (r) await this.save({ ...r, state: initialPlanState(r.config) });
    return this.viewNow(binId);
  }

  async remove(binId: string): Promise<void> {
    this.bodyBins.delete(binId);
    if (this.byBin.delete(binId)) await this.store.responses.delete(binId);
  }

  /** Must this bin's answer wait for the body (a `json` match)? Else it is decided at arrival. */
  needsBody(binId: string): boolean {
    return this.bodyBins.has(binId);
  }

  private remember(r: StoredResponseControl) {
    this.byBin.set(r.id, r);
    if (needsBody(r.config)) this.bodyBins.add(r.id);
    else this.bodyBins.delete(r.id);
  }

  /** The answer for one request; advances the plan. Synchronous on purpose (see top). */
  decide(binId: string, facts: RequestFacts): Decision {
    const r = this.byBin.get(binId);
    if (!r) return this.defaultDecision;
    const { decision, state } = decide(r.config, r.state, facts);
    if (state !== r.state) void this.save({ ...r, state });
    return decision;
  }

  private async save(r: StoredResponseControl) {
    this.remember(r);
    this.live.responsePosition(r.id, positionOf(r.state));
    await this.store.responses.put(r);
  }

  async close(): Promise<void> {}
}
