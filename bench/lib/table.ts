// Plain-text tables for the terminal.

export type Cell = string | number | null | undefined;

export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
  notes?: string[];
}

export function fmt(x: Cell, digits = 2): string {
  if (x === null || x === undefined) return '-';
  if (typeof x === 'string') return x;
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const ms = (x: number) => (Number.isFinite(x) ? `${fmt(x, x < 10 ? 2 : 1)} ms` : '-');
export const x = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '-');
export const mb = (bytes: number | null) => (bytes === null ? '-' : `${(bytes / 1024 / 1024).toFixed(1)} MB`);

export function renderTable(t: Table): string {
  const cells = t.rows.map((r) => r.map((c) => fmt(c)));
  const widths = t.columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = t.columns.map((_, i) => t.rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined || /^[-\d.,]+( ?(ms|x|MB|%|s|\/s))?$/.test(String(r[i]))));
  const line = (r: string[]) => r.map((c, i) => (numeric[i] && i > 0 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [t.title, line(t.columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  for (const n of t.notes ?? []) out.push(`  * ${n}`);
  return out.join('\n');
}
