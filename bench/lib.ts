// The shape every benchmark scenario returns, so bench/run.ts can print and record them all,
// and the helpers the scenarios share: temp dirs, interleaved rounds, medians.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One measured row. */
export interface BenchRow {
  /** What was measured ("logEvent → JSONL"). */
  name: string;
  /** Events (or operations) per second: the median of the rounds. */
  opsPerSec: number;
  /** Events per second of CPU time (user + system of the whole process), median of the rounds, when measured. */
  cpuOpsPerSec?: number;
  /** Ratio to the section's reference row, filled in by the runner when `reference` is set. */
  ratio?: number;
  /** Free text (sizes, settings, memory). */
  note?: string;
}

/** A target of the issues, checked against this run's figures. */
export interface BenchTarget {
  /** The target as the issue states it. */
  description: string;
  /** Whether this run met it. */
  met: boolean;
  /** The figures it was judged on. */
  detail: string;
}

/** A table of rows measured in one run. */
export interface BenchSection {
  /** Heading in docs/benchmarks.md. */
  title: string;
  /** Name of the row the others are compared to (the floor), if any. */
  reference?: string;
  /** The rows. */
  rows: BenchRow[];
  /** Targets and whether they were met. */
  targets?: BenchTarget[];
  /** Remarks printed under the table: what each row measures. */
  notes?: string[];
}

/** A scenario file (bench/<name>.bench.ts) default-exports one of these. */
export type BenchScenario = () => Promise<BenchSection[]>;

/** A scenario that cannot run here (a missing service): the runner prints the reason and goes on. */
export class BenchUnavailable extends Error {
  override readonly name = 'BenchUnavailable';
}

const made: string[] = [];

/** A fresh directory under the OS temp dir, removed when the process exits. */
export function benchDir(prefix = 'auditrail-bench-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes a directory made by benchDir now (big logs should not pile up between rounds). */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Seconds elapsed since `start` (from process.hrtime.bigint()). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** One measurement: events per second of wall-clock time, and of CPU time when known. */
export interface Measured {
  /** Events per wall-clock second. */
  opsPerSec: number;
  /** Events per CPU second of this process (user + system, every thread). */
  cpuOpsPerSec?: number;
}

/** Starts a measurement: call the function it returns with the events done, for their rate per wall-clock and per CPU second. */
export function startMeasure(): (events: number) => Measured {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  return (events) => {
    const used = process.cpuUsage(cpu);
    return { opsPerSec: events / secondsSince(wall), cpuOpsPerSec: events / ((used.user + used.system) / 1e6) };
  };
}

/** One contender: `round()` measures it once and returns events per second (or a Measured). */
export interface Variant {
  /** Row name. */
  name: string;
  /** Note for the row. */
  note?: string;
  /** One measurement, in events per second. */
  round(): Promise<number | Measured> | number | Measured;
}

/**
 * Measures every variant `rounds` times, interleaved (A B C, B C A, ...) so that a noisy
 * neighbour slows all of them alike, and reports the median of each with its spread.
 * A first untimed round warms the JIT up.
 */
export async function interleaved(variants: readonly Variant[], rounds = 5, warmup = true): Promise<BenchRow[]> {
  if (warmup) for (const v of variants) await v.round();
  const results = variants.map(() => [] as number[]);
  const cpuResults = variants.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < variants.length; k++) {
      const i = (k + r) % variants.length;
      const measured = await variants[i]!.round();
      if (typeof measured === 'number') results[i]!.push(measured);
      else {
        results[i]!.push(measured.opsPerSec);
        if (measured.cpuOpsPerSec !== undefined) cpuResults[i]!.push(measured.cpuOpsPerSec);
      }
      global.gc?.();
    }
  }
  return variants.map((v, i) => {
    const all = results[i]!;
    const cpu = cpuResults[i]!;
    const spread = `median of ${all.length}, range ${fmt(Math.min(...all))}–${fmt(Math.max(...all))}`;
    const measuredRow: BenchRow = { name: v.name, opsPerSec: median(all), note: v.note ? `${v.note}; ${spread}` : spread };
    if (cpu.length === all.length) measuredRow.cpuOpsPerSec = median(cpu);
    return measuredRow;
  });
}

/** Looks a row up by name (throws when missing, so a renamed row cannot silently skip a target). */
export function row(rows: readonly BenchRow[], name: string): BenchRow {
  const found = rows.find((r) => r.name === name);
  if (!found) throw new Error(`no bench row named ${JSON.stringify(name)}`);
  return found;
}

/** Events per second, rounded for reading: 123,456. */
export function fmt(opsPerSec: number): string {
  return Math.round(opsPerSec).toLocaleString('en-US');
}

/** Logs a progress line to stderr (stdout is left to the runner). */
export function progress(message: string): void {
  process.stderr.write(`  · ${message}\n`);
}
