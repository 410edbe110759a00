// The shape every benchmark scenario returns, so bench/run.ts can print and record them all.

/** One measured row. */
export interface BenchRow {
  /** What was measured ("logEvent → JSONL"). */
  name: string;
  /** Events (or operations) per second. */
  opsPerSec: number;
  /** Ratio to the section's reference row, filled in by the runner when `reference` is set. */
  ratio?: number;
  /** Free text (sizes, settings, memory). */
  note?: string;
}

/** A table of rows measured in one run. */
export interface BenchSection {
  /** Heading in docs/benchmarks.md. */
  title: string;
  /** Name of the row the others are compared to (the floor), if any. */
  reference?: string;
  /** The rows. */
  rows: BenchRow[];
  /** Targets and remarks printed under the table. */
  notes?: string[];
}

/** A scenario file (bench/<name>.bench.ts) default-exports one of these. */
export type BenchScenario = () => Promise<BenchSection[]>;
