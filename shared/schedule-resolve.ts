// A webhook's schedule over the global settings: one implementation for the server (which plans
// deliveries with it) and the console (which says each webhook's deadline without asking).
import type { ScheduleSettings } from './api.ts';
import { listDeadline, PRESETS } from './schedule-presets.ts';

/**
 * What a webhook's (already validated) overrides set over the global settings: its preset or
 * list of waits first, then the numbers it gives. A list's deadline defaults to twice the sum
 * of its waits (listDeadline); "portable" sets nothing (it is the global settings).
 */
export function overridesOf(override: Partial<ScheduleSettings> | undefined): Partial<ScheduleSettings> {
  const { preset, delaysMs, ...numbers } = override ?? {};
  let out: Partial<ScheduleSettings> = {};
  if (delaysMs) out = { jitter: 0, delaysMs, deadlineMs: listDeadline(delaysMs) };
  else if (preset) {
    const p = PRESETS[preset];
    out = { ...p, preset };
    if (p.delaysMs && p.deadlineMs === undefined) out.deadlineMs = listDeadline(p.delaysMs);
  }
  for (const k of ['firstDelayMs', 'factor', 'jitter', 'deadlineMs'] as const) if (numbers[k] !== undefined) out[k] = numbers[k];
  return out;
}

/** The global (env) settings with a webhook's overrides on top (overridesOf). `global` is always the server's settings. */
export function resolveSchedule(global: ScheduleSettings, override: Partial<ScheduleSettings> | undefined): ScheduleSettings {
  const { preset: _p, delaysMs: _d, ...base } = global;
  return { ...base, ...overridesOf(override) };
}

/** A webhook's deadline (ms after each event) from its own schedule: resolveSchedule's, given only the server's default deadline. */
export const deadlineOf = (own: Partial<ScheduleSettings>, defaultDeadlineMs: number): number => overridesOf(own).deadlineMs ?? defaultDeadlineMs;
