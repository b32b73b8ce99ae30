// A small seedable generator (mulberry32). Pure step function so callers can persist the
// state and replay a scenario exactly; both response plans and retry jitter use it.

export interface RngStep {
  value: number; // in [0, 1)
  state: number; // next state (uint32)
}

export function rngStep(state: number): RngStep {
  const s = (state + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  const value = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  return { value, state: s };
}

/** Seed -> initial state. Any finite number works; it is folded to uint32. */
export function seedState(seed: number): number {
  return (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
}

/** Convenience stateful wrapper for code that does not persist the state. */
export function createRng(seed: number): () => number {
  let state = seedState(seed);
  return () => {
    const r = rngStep(state);
    state = r.state;
    return r.value;
  };
}
