// The JSON tree view's model: a parse that keeps numbers exactly as written where the browser
// can say how they were written (JSON.parse source access), and the few facts a tree node
// shows. Pure.

/** A number whose text JSON.parse would change (12.50, 12345678901234567890). */
export class RawNumber {
  constructor(readonly text: string) {}
}

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

const keepNumberText: Reviver = (_key, value, context) =>
  typeof value === 'number' && context?.source !== undefined && String(value) !== context.source ? new RawNumber(context.source) : value;

/** JSON.parse, keeping literal number text where the engine offers it; throws as JSON.parse does. */
export function parseExact(text: string): unknown {
  return JSON.parse(text, keepNumberText as (this: unknown, key: string, value: unknown) => unknown);
}

export type NodeKind = 'object' | 'array' | 'string' | 'number' | 'literal';

export function kindOf(v: unknown): NodeKind {
  if (v instanceof RawNumber || typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'array';
  if (v && typeof v === 'object') return 'object';
  return 'literal';
}

/** A leaf as JSON writes it. */
export function leafText(v: unknown): string {
  if (v instanceof RawNumber) return v.text;
  return JSON.stringify(v) ?? String(v);
}

/** Children as [key, value]: object keys in order, array indexes. */
export function entriesOf(v: unknown): [string, unknown][] {
  if (Array.isArray(v)) return v.map((x, i) => [String(i), x]);
  if (v && typeof v === 'object' && !(v instanceof RawNumber)) return Object.entries(v as Record<string, unknown>);
  return [];
}

/** "{ 3 keys }", "[ 120 items ]": what a collapsed node holds. */
export function summaryOf(v: unknown): string {
  if (Array.isArray(v)) return `[ ${v.length} item${v.length === 1 ? '' : 's'} ]`;
  const n = entriesOf(v).length;
  return `{ ${n} key${n === 1 ? '' : 's'} }`;
}

/**
 * Whether some value sits deeper than `max` levels (the root at 0), as jsonView counts. Walked
 * with a stack of its own: opening 2,000 levels at once overflowed the call stack.
 */
export function nestsDeeperThan(root: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (d > max) return true;
    if (v instanceof RawNumber || !v || typeof v !== 'object') continue;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) stack.push([child, d + 1]);
  }
  return false;
}
