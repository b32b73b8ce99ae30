// Applies the config file at start-up, idempotently: bins and webhooks it names are created or
// brought in line (existing bins keep their captures; response settings that did not change
// keep their plan position; a bin's settings the file does not give are left as they are; a
// webhook's fields it does not give take POST's defaults, its secrets excepted: see
// webhookFromFile); what it does not name is left alone unless `prune` is set.
import { createHash, randomUUID } from 'node:crypto';
import type { SettingsKind } from '../shared/api.ts';
import type { ConfigFile } from '../shared/schema/config.ts';
import { LEADING_DASH, slugWarning } from '../shared/schema/bins.ts';
import { hasVerifySettings } from '../shared/schema/verify.ts';
import { withLabelFrom } from './api/bins.ts';
import { CASE_TWIN_REASON, caseTwin } from './bins/id-case.ts';
import { initialPlanState } from './control/engine.ts';
import { type ControlLimits, parseResponseConfig } from './control/validate.ts';
import { resolveSchedule } from './dispatch/schedule.ts';
import { scheduleRefusal } from './dispatch/schedule-limit.ts';
import { NEEDS_SECRET, webhookFromFile, type ScheduleLimits } from './dispatch/webhook-input.ts';
import type { Store } from './store/types.ts';

export interface ApplyResult {
  created: string[];
  updated: string[];
  removed: string[];
  warnings: string[];
  /** Bins whose signature settings changed: their stored captures are checked again. */
  recheck: string[];
  /**
   * What changed in the store, for other instances on Redis: they keep bins and settings in
   * memory, fresh by notes (see cluster/redis-cluster.ts), and this file's writes made none.
   */
  changed: { kind: SettingsKind | 'bin'; binId: string }[];
}

/** A seed from the bin id: the same file gives the same plan, restart after restart. */
const seedOf = (id: string) => createHash('sha256').update(id).digest().readUInt32BE(0);

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** A file whose content the schema accepts but this hooklab cannot use (a forward target that loops): nothing was applied. */
export class ConfigRefusedError extends Error {}

export interface ApplyOptions {
  now: string;
  limits: ControlLimits;
  /** Why a forward target cannot be used here (as PUT …/forward refuses it), or null. */
  refuseTarget?: (url: string) => string | null;
  /** Why the dispatcher may not call a webhook's URL here (as POST /api/webhooks refuses it), or null. */
  refuseWebhookUrl?: (url: string) => string | null;
  /** MAX_BINS and MAX_WEBHOOKS: what the file leaves must fit them, as the API's creates must. */
  maxBins?: number;
  maxWebhooks?: number;
  /** The server's schedule and MAX_SCHEDULE_ATTEMPTS: a webhook's schedule must fit, as the API's saves must. */
  scheduleLimits?: ScheduleLimits;
}

/** How many the store holds once the file is applied (with `prune`, only the file's), when that is over `max`. */
function overLimit(stored: readonly string[], inFile: readonly string[], prune: boolean, max: number | undefined): { total: number; added: number } | null {
  const have = new Set(stored);
  const added = new Set(inFile.filter((id) => !have.has(id))).size;
  const total = prune ? new Set(inFile).size : have.size + added;
  return max !== undefined && total > max && added > 0 ? { total, added } : null;
}

export async function applyConfig(store: Store, cfg: ConfigFile, o: ApplyOptions): Promise<ApplyResult> {
  const out: ApplyResult = { created: [], updated: [], removed: [], warnings: [], recheck: [], changed: [] };
  const changed = (kind: ApplyResult['changed'][number]['kind'], binId: string) => out.changed.push({ kind, binId });
  // Checked before anything is applied: a bad file changes nothing.
  const refused: string[] = [];
  const stored = await store.bins.list();
  for (const [i, b] of (cfg.bins ?? []).entries()) {
    if (b.id.startsWith('-') && !(await store.bins.get(b.id))) refused.push(`bins[${i}].id: ${LEADING_DASH}; an existing bin's may`);
    // Named by place, not id (the id is its URL's secret): a new bin whose id only differs in case from a stored one, or from another of the file's.
    const earlier = (cfg.bins ?? []).slice(0, i);
    if (caseTwin(b.id, earlier)) refused.push(`bins[${i}].id: differs only in letter case from bins[${earlier.findIndex((e) => e.id.toLowerCase() === b.id.toLowerCase())}]'s; ${CASE_TWIN_REASON}`);
    else if (!stored.some((s) => s.id === b.id) && caseTwin(b.id, stored)) refused.push(`bins[${i}].id: a stored bin's id differs from it only in letter case; ${CASE_TWIN_REASON}`);
    for (const [j, t] of (b.forward?.targets ?? []).entries()) {
      const why = o.refuseTarget?.(t.url);
      if (why) refused.push(`bins[${i}].forward.targets[${j}].url: ${why}`);
    }
  }
  for (const [i, w] of (cfg.webhooks ?? []).entries()) {
    const why = o.refuseWebhookUrl?.(w.url);
    if (why) refused.push(`webhooks[${i}].url: ${why}`);
    // As the API refuses it (see applyWebhookInput), before anything is written.
    const tooLong = w.schedule && o.scheduleLimits && scheduleRefusal(resolveSchedule(o.scheduleLimits.schedule, w.schedule), w.schedule, o.scheduleLimits.maxAttempts);
    if (tooLong) refused.push(`webhooks[${i}].schedule.${tooLong.field}: ${tooLong.message}`);
    if (w.previousSecret && !(w.secret ?? (w.secret === undefined ? (await store.webhooks.get(w.id))?.secret : null))) refused.push(`webhooks[${i}].previousSecret: ${NEEDS_SECRET}`);
  }
  const binsOver = overLimit(stored.map((b) => b.id), (cfg.bins ?? []).map((b) => b.id), cfg.prune === true, o.maxBins);
  if (binsOver) refused.push(`bins: the file adds ${binsOver.added}, leaving ${binsOver.total} bins, more than MAX_BINS (${o.maxBins}); raise MAX_BINS, or delete bins first (or set prune)`);
  const hooksOver = overLimit((await store.webhooks.list()).map((w) => w.id), (cfg.webhooks ?? []).map((w) => w.id), cfg.prune === true, o.maxWebhooks);
  if (hooksOver) refused.push(`webhooks: the file adds ${hooksOver.added}, leaving ${hooksOver.total} webhooks, more than MAX_WEBHOOKS (${o.maxWebhooks}); raise MAX_WEBHOOKS, or delete webhooks first (or set prune)`);
  if (refused.length) throw new ConfigRefusedError(refused.join('\n  '));
  for (const [i, b] of (cfg.bins ?? []).entries()) {
    // Logged: the bin is named by its place in the file (and its name), not by its id, its URL's secret.
    const warning = slugWarning(b.id, `the id of bins[${i}]${b.name ? ` (${JSON.stringify(b.name)})` : ''}`);
    if (warning) out.warnings.push(warning);
    if (b.id.startsWith('-')) out.warnings.push(`the id of bins[${i}] starts with "-": the CLI takes it for an option; give it the receiver URL, or "--" before the id`);
    const existing = await store.bins.get(b.id);
    if (!existing) {
      // Settings a deleted bin with this id left (see api/bins.ts removeBin) are not this bin's.
      await Promise.all([store.responses.delete(b.id), store.forwards.delete(b.id), store.verifications.delete(b.id)]);
      await store.bins.put(withLabelFrom({ id: b.id, name: b.name || `Bin ${b.id.slice(0, 6)}`, createdAt: o.now }, b.labelFrom));
      out.created.push(`bin ${b.id}`);
      changed('bin', b.id);
    } else {
      let next = b.name ? { ...existing, name: b.name } : existing;
      if (b.labelFrom) next = withLabelFrom(next, b.labelFrom);
      if (!same(next, existing)) {
        await store.bins.put(next);
        out.updated.push(`bin ${b.id}`);
        changed('bin', b.id);
      }
    }
    if (b.response) {
      const config = parseResponseConfig(b.response, o.limits, () => seedOf(b.id));
      const current = await store.responses.get(b.id);
      if (!current || !same(current.config, config)) {
        await store.responses.put({ id: b.id, config, state: initialPlanState(config) });
        if (existing) out.updated.push(`response of bin ${b.id}`);
        changed('response', b.id);
      }
    }
    if (b.forward) {
      // Checked above as PUT …/forward checks them (a loop through another name is still
      // stopped when sending, recorded 'loop').
      const next = { id: b.id, targets: b.forward.targets, answerWith: b.forward.answerWith ?? ('bin' as const) };
      const current = await store.forwards.get(b.id);
      if (!current || !same(current, next)) {
        if (next.targets.length) await store.forwards.put(next);
        else await store.forwards.delete(b.id);
        if (existing && (current || next.targets.length)) out.updated.push(`forward targets of bin ${b.id}`);
        changed('forward', b.id);
      }
    }
    if (b.verify) {
      const current = await store.verifications.get(b.id);
      if (!current || !same(current.settings, b.verify)) {
        const keep = hasVerifySettings(b.verify);
        if (keep) await store.verifications.put({ id: b.id, settings: b.verify, rev: randomUUID() });
        else await store.verifications.delete(b.id);
        changed('verify', b.id);
        if (existing && (current || keep)) {
          out.updated.push(`signature settings of bin ${b.id}`);
          out.recheck.push(b.id);
        }
      }
    }
  }
  for (const w of cfg.webhooks ?? []) {
    const { id, ...input } = w;
    const existing = (await store.webhooks.get(id)) ?? null;
    const next = webhookFromFile(existing, input, id, o.now);
    const { updatedAt: _a, ...nextCmp } = next;
    const prevCmp = existing ? (({ updatedAt: _b, ...rest }) => rest)(existing) : null;
    if (!prevCmp || !same(prevCmp, nextCmp)) {
      await store.webhooks.put(next);
      (existing ? out.updated : out.created).push(`webhook ${id}`);
    }
  }
  if (cfg.prune) {
    const binIds = new Set((cfg.bins ?? []).map((b) => b.id));
    for (const b of await store.bins.list()) {
      if (binIds.has(b.id)) continue;
      await store.bins.delete(b.id);
      await store.responses.delete(b.id);
      await store.forwards.delete(b.id);
      await store.verifications.delete(b.id);
      out.removed.push(`bin ${b.id}`);
      // A bin's note has the others forget it and read its targets and signature settings again.
      changed('bin', b.id);
    }
    const hookIds = new Set((cfg.webhooks ?? []).map((w) => w.id));
    for (const w of await store.webhooks.list()) {
      if (hookIds.has(w.id)) continue;
      await store.webhooks.delete(w.id);
      out.removed.push(`webhook ${w.id}`);
    }
  }
  return out;
}
