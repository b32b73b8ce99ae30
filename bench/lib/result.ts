// What each benchmark hands back to bench/run.ts.
import type { Table } from './table.ts';

export interface Goal {
  /** What is measured, e.g. "capture req/s vs bare node:http". */
  name: string;
  /** The target, e.g. ">= 0.50x". */
  target: string;
  /** The figure measured, formatted. */
  value: string;
  pass: boolean;
}

export interface BenchResult {
  name: string;
  title: string;
  tables: Table[];
  goals: Goal[];
  /** Raw figures for the JSON file. */
  data: Record<string, unknown>;
}

export interface BenchOptions {
  /** When set, hooklab children run with --cpu-prof and write their profile here. */
  profileDir: string | null;
  /** Log progress lines (to stderr). */
  log: (msg: string) => void;
}

export type Bench = (opts: BenchOptions) => Promise<BenchResult>;
