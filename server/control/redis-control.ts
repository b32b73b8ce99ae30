// A bin's response settings when several hooklab instances share one Redis. The settings live
// in the store's `responses` collection; where each plan stands lives in a small hash,
// <p>plan:<bin>, that only one Lua script moves: each request's decision is one atomic step
// in Redis, so "500 three times then 200" is used up exactly once per request cluster-wide,
// in the order decisions reach Redis.
//
// The instance does what needs the request (which rules and steps match it: headers, path,
// JSON body); the script does what needs the shared state (which step is current, using it
// up, the seeded draw). Both halves are the pure engine's (engine.ts), split: a test runs the
// same arrivals through both and through the engine serially and compares the answers.
//
// Each instance caches the settings it answers with, keyed by a version (their ETag). The
// script refuses a decision made with other settings than the hash's ("stale"): the
// instance reloads them and decides again, so a change on A is obeyed by B's next request.
// Other readers of the settings (cors, needsBody) follow a change through `refresh`, which the
// app calls when the cluster's settings channel says a bin's settings changed.
//
// A bin without a plan (most bins: no settings at all, or only a default answer and rules)
// has no step to use up: its answer follows from the settings and the request alone. Then no
// decision is made in Redis (quickDecision): the instance answers with the settings it knows,
// and the capture's append checks, in its own atomic step, that the plan hash's version is
// still theirs ('' when none: no hash). When it is not (settings were set elsewhere, perhaps
// with a plan), nothing is stored: the receiver decides here (decide(): the step, if one is
// due, is used up now, once) and appends again. So a request whose bin has a plan always
// takes its step, exactly once; it is taken when the append found out, and a request on
// another instance that already knew of the plan may have taken one before it, as happens
// to any two requests that reach Redis at about the same time.
import type { Redis } from 'ioredis';
import type { ResponseConfig, ResponseControlView } from '../../shared/api.ts';
import { etagOf } from '../http/etag.ts';
import type { LiveBus } from '../live/bus.ts';
import { rngStep, seedState } from '../rng.ts';
import type { PlanState, Store } from '../store/types.ts';
import type { Control, QuickDecision } from './control.ts';
import { type Decision, type RequestFacts, decide as decideNow, fromDefault, fromStep, initialPlanState, matches, needsBody, withUses } from './engine.ts';
import { type ControlLimits, defaultConfig, parseResponseConfig } from './validate.ts';

/** Advance a bin's plan by one request. KEYS[1] the plan hash. ARGV: version, rule hit (1/0),
 * mask of the steps this request matches ("0110…"), each step's `times` ("1,3,1"), which
 * steps draw ("010"), afterPlan loop (1/0).
 * Answers {kind, index, consumed, rngBefore, step, used, exhausted}: kind stale (with the
 * hash's version), none (no settings), rule, default, step; rngBefore is the generator state
 * the step's draw starts from (-1: no draw); then the position after it. The generator's state moves by a constant per draw (mulberry32), so the
 * script only adds it; the instance computes the value. */
const PLAN_STEP = `
local key = KEYS[1]
local h = redis.call('HMGET', key, 'v', 'step', 'used', 'consumed', 'exhausted', 'rng')
local v = h[1] or ''
if v ~= ARGV[1] then return {'stale', v} end
if v == '' then return {'none'} end
local step, used, consumed, exhausted, rng = tonumber(h[2]), tonumber(h[3]), tonumber(h[4]), h[5] == '1', tonumber(h[6])
if ARGV[2] == '1' then return {'rule', -1, consumed, -1} end
local mask = ARGV[3]
local n = string.len(mask)
if n == 0 or exhausted then return {'default', -1, consumed, -1} end
if string.sub(mask, step + 1, step + 1) ~= '1' then return {'default', -1, consumed, -1} end
local times, draws = {}, {}
for t in string.gmatch(ARGV[4], '[^,]+') do times[#times + 1] = tonumber(t) end
local index, before = step, -1
if string.sub(ARGV[5], step + 1, step + 1) == '1' then
  before = rng
  rng = (rng + 1831565813) % 4294967296
end
used = used + 1
if used >= times[step + 1] then
  step = step + 1
  used = 0
  if step >= n then
    if ARGV[6] == '1' then step = 0 else exhausted = true end
  end
end
consumed = consumed + 1
local ex = exhausted and '1' or '0'
redis.call('HSET', key, 'step', step, 'used', used, 'consumed', consumed, 'exhausted', ex, 'rng', rng)
return {'step', index, consumed, before, step, used, ex}
`;

/** Start a plan over for settings of this version. KEYS[1] the plan hash; ARGV: version, rng. */
const PLAN_RESET = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'step', 0, 'used', 0, 'consumed', 0, 'exhausted', '0', 'rng', ARGV[2])
return 1
`;

/** Start a plan over only if it is not already at this version (start-up, config files). */
const PLAN_ENSURE = `
if redis.call('HGET', KEYS[1], 'v') == ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'step', 0, 'used', 0, 'consumed', 0, 'exhausted', '0', 'rng', ARGV[2])
return 1
`;

type PlanClient = Redis & {
  hooklabPlanStep(key: string, ...argv: (string | number)[]): Promise<(string | number)[]>;
  hooklabPlanReset(key: string, version: string, rng: number): Promise<number>;
  hooklabPlanEnsure(key: string, version: string, rng: number): Promise<number>;
};

interface Cached {
  config: ResponseConfig;
  version: string;
  /** Settings without a plan: the guard its quick decisions carry (else null). */
  guard: { settingsVersion: string } | null;
  /** Where a plan of these settings starts (one without a plan stays there). */
  start: PlanState;
  /** The script's per-step arguments, made once per settings. */
  times: string;
  draws: string;
  loop: string;
}

export interface RedisControlDeps {
  store: Store;
  live: LiveBus;
  limits: ControlLimits;
  randomSeed: () => number;
  /** The store's connection (commands) and prefix; `run` maps connection errors to faults. */
  client: Redis;
  run: <T>(fn: () => Promise<T>) => Promise<T>;
  /**
   * Like run, for a read that concurrent callers may share while it has not been sent yet
   * (RedisConnection.sharedRead; `key` names the read); default: run.
   */
  sharedRead?: <T>(key: string, fn: () => Promise<T>) => Promise<T>;
  prefix: string;
}

const versionOf = (config: ResponseConfig) => etagOf(config);

/** A bin without settings: the default answer, if the plan hash still has no version. */
const NO_SETTINGS: QuickDecision = { decision: withUses(fromDefault(defaultConfig(0)), { consumed: 0 }), guard: { settingsVersion: '' } };

export class RedisResponseControl implements Control {
  private readonly byBin = new Map<string, Cached>();
  private readonly client: PlanClient;

  constructor(private readonly d: RedisControlDeps) {
    const c = d.client as PlanClient;
    c.defineCommand('hooklabPlanStep', { numberOfKeys: 1, lua: PLAN_STEP });
    c.defineCommand('hooklabPlanReset', { numberOfKeys: 1, lua: PLAN_RESET });
    c.defineCommand('hooklabPlanEnsure', { numberOfKeys: 1, lua: PLAN_ENSURE });
    this.client = c;
  }

  private key(binId: string) {
    return `${this.d.prefix}plan:${binId}`;
  }

  async load(): Promise<void> {
    for (const r of await this.d.store.responses.list()) {
      this.remember(r.id, r.config);
      // Settings written by a config file before start: their plan starts, once cluster-wide.
      await this.d.run(() => this.client.hooklabPlanEnsure(this.key(r.id), versionOf(r.config), seedState(r.config.seed)));
    }
  }

  /** Another instance changed a bin's settings: answer with the new ones. */
  async refresh(binId: string): Promise<void> {
    const r = await this.d.store.responses.get(binId);
    if (r) this.remember(binId, r.config);
    else this.byBin.delete(binId);
  }

  private remember(binId: string, config: ResponseConfig) {
    const version = versionOf(config);
    this.byBin.set(binId, {
      config,
      version,
      guard: config.plan.length === 0 ? { settingsVersion: version } : null,
      start: initialPlanState(config),
      times: config.plan.map((s) => s.times ?? 1).join(','),
      draws: config.plan.map((s) => (s.probability !== undefined ? '1' : '0')).join(''),
      loop: config.afterPlan === 'loop' ? '1' : '0',
    });
  }

  async view(binId: string): Promise<ResponseControlView> {
    const c = this.byBin.get(binId);
    const config = c ? { ...c.config, cors: c.config.cors !== false } : defaultConfig(0);
    const h = c ? await this.d.run(() => this.client.hmget(this.key(binId), 'step', 'used', 'consumed', 'exhausted')) : [];
    return {
      config,
      position: { step: Number(h[0] ?? 0), usedInStep: Number(h[1] ?? 0), consumed: Number(h[2] ?? 0), exhausted: h[3] === '1' },
    };
  }

  async set(binId: string, input: unknown): Promise<ResponseControlView> {
    const config = parseResponseConfig(input, this.d.limits, this.d.randomSeed);
    const version = versionOf(config);
    await this.d.store.responses.put({ id: binId, config, state: { step: 0, usedInStep: 0, consumed: 0, exhausted: false, rng: seedState(config.seed) } });
    await this.d.run(() => this.client.hooklabPlanReset(this.key(binId), version, seedState(config.seed)));
    this.remember(binId, config);
    return this.positionChanged(binId);
  }

  async reset(binId: string): Promise<ResponseControlView> {
    const c = this.byBin.get(binId);
    if (c) await this.d.run(() => this.client.hooklabPlanReset(this.key(binId), c.version, seedState(c.config.seed)));
    return this.positionChanged(binId);
  }

  async remove(binId: string): Promise<void> {
    this.byBin.delete(binId);
    // Its plan's position goes with them (see RedisResponses in store/redis/collections.ts).
    await this.d.store.responses.delete(binId);
  }

  needsBody(binId: string): boolean {
    const c = this.byBin.get(binId);
    return c ? needsBody(c.config) : false;
  }

  cors(binId: string): boolean {
    return this.byBin.get(binId)?.config.cors !== false;
  }

  quickDecision(binId: string, facts: RequestFacts): QuickDecision | null {
    const c = this.byBin.get(binId);
    if (!c) return NO_SETTINGS;
    if (!c.guard) return null;
    // No plan: no step, and the count of steps used is 0 (the hash starts at 0 with each
    // version), so this is what PLAN_STEP would answer ('rule' or 'default').
    return { decision: decideNow(c.config, c.start, facts).decision, guard: c.guard };
  }

  async decide(binId: string, facts: RequestFacts): Promise<Decision> {
    for (let tries = 0; ; tries++) {
      const c = this.byBin.get(binId);
      if (!c) {
        // No settings known here: the plan hash's version alone says whether that still holds
        // (a plain HGET; what PLAN_STEP would answer, 'none' or 'stale', without a script).
        // Requests to this bin in the same turn share it: it runs in Redis after each arrived.
        const key = this.key(binId);
        const read = () => this.client.hget(key, 'v');
        const v = await (this.d.sharedRead ? this.d.sharedRead(`HGET ${key} v`, read) : this.d.run(read));
        if (v === null || v === '') return withUses(fromDefault(defaultConfig(0)), { consumed: 0 });
        if (tries >= 3) throw new Error(`response settings of bin ${binId} keep changing; try again`);
        await this.refresh(binId);
        continue;
      }
      const config = c.config;
      const ruleIndex = config.rules.findIndex((r) => matches(r.match, facts));
      const mask = config.plan.map((s) => (matches(s.match, facts) ? '1' : '0')).join('');
      const r = await this.d.run(() =>
        this.client.hooklabPlanStep(this.key(binId), c.version, ruleIndex >= 0 ? '1' : '0', mask, c.times, c.draws, c.loop),
      );
      const kind = String(r[0]);
      if (kind === 'stale') {
        // Settings changed elsewhere (or were made before this instance knew): reload, again.
        if (tries >= 3) throw new Error(`response settings of bin ${binId} keep changing; try again`);
        await this.refresh(binId);
        continue;
      }
      if (kind === 'none') return withUses(fromDefault(config), { consumed: 0 });
      const consumed = Number(r[2]);
      if (kind === 'rule') return withUses(fromStep(config.rules[ruleIndex], config, 'rule', ruleIndex, null), { consumed });
      if (kind === 'default') return withUses(fromDefault(config), { consumed });
      const index = Number(r[1]);
      const step = config.plan[index];
      const before = Number(r[3]);
      let roll: Decision['outcome']['roll'] = null;
      if (before >= 0 && step.probability !== undefined) {
        const value = rngStep(before).value;
        roll = { p: step.probability, value, hit: value < step.probability };
      }
      this.d.live.responsePosition(binId, { step: Number(r[4]), usedInStep: Number(r[5]), consumed, exhausted: r[6] === '1' });
      if (roll && !roll.hit) return withUses(fromDefault(config, { source: 'step', index, roll }), { consumed });
      return withUses(fromStep(step, config, 'step', index, roll), { consumed });
    }
  }

  private async positionChanged(binId: string): Promise<ResponseControlView> {
    const v = await this.view(binId);
    this.d.live.responsePosition(binId, v.position);
    return v;
  }

  async close(): Promise<void> {}
}
