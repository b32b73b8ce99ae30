// What the receiver and the API need from a bin's response settings. Two implementations:
// ResponseControl (one process: settings and plan position in memory, decisions synchronous)
// and RedisResponseControl (several instances on one Redis: each decision is one atomic step
// in Redis, so a plan is used up exactly once per request cluster-wide).
import type { ResponseControlView } from '../../shared/api.ts';
import type { AppendGuard } from '../store/types.ts';
import type { Decision, RequestFacts } from './engine.ts';

/** An answer decided by the instance alone, valid while `guard` holds (see Control.quickDecision). */
export interface QuickDecision {
  decision: Decision;
  guard: AppendGuard;
}

export interface Control {
  load(): Promise<void>;
  view(binId: string): Promise<ResponseControlView>;
  /** Validate and replace a bin's settings; the plan starts from its first step. Throws 400s. */
  set(binId: string, input: unknown): Promise<ResponseControlView>;
  reset(binId: string): Promise<ResponseControlView>;
  remove(binId: string): Promise<void>;
  /** Must this bin's answer wait for the body (a `json` match)? */
  needsBody(binId: string): boolean;
  /** Does this bin answer browsers on other origins? */
  cors(binId: string): boolean;
  /** The answer for one request; advances the plan. */
  decide(binId: string, facts: RequestFacts): Decision | Promise<Decision>;
  /**
   * When the bin has no plan (as far as this instance knows), its answer needs no step in the
   * shared store: answered here, with the guard that the settings are still those it knows.
   * The receiver passes the guard to the append, which checks it in the same atomic step; when
   * it fails, the receiver calls decide() and uses that answer. null: call decide().
   * (Only the Redis control has it: the in-process one decides synchronously anyway.)
   */
  quickDecision?(binId: string, facts: RequestFacts): QuickDecision | null;
  /** Read a bin's settings from the store again (Redis: another instance may have changed them). */
  refresh?(binId: string): Promise<void>;
  /** Stop background work (Redis: the settings channel). */
  close(): Promise<void>;
}
