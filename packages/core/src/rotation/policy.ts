// When the JSONL journal rotates (by size or by UTC day) and which closed segments retention may delete.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidOptionError } from '../errors';
import { refuseUnknownOptions } from '../option-names';
import type { Segment } from './segments';

/** Rotation of the JSONL journal: the live file is closed into a segment named by its time range. */
export interface RotationOptions {
  /** Rotate once the live file holds at least this many bytes. */
  maxBytes?: number;
  /** Rotate when the UTC day (or hour) changes since the live file's first event. */
  interval?: 'day' | 'hour';
}

/** Retention of closed segments: whole segments are deleted, each deletion recorded in the chain. */
export interface RetentionOptions {
  /** Delete closed segments whose last event is older than this many days. */
  maxAgeDays: number;
  /** Never delete a segment whose last event is younger than this (default 183 days: the six months of EU AI Act art. 19). */
  minAgeDays?: number;
}

/** Default floor of retention, in days. */
export const DEFAULT_MIN_RETENTION_DAYS = 183;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Decides when the live file is closed. */
export class RotationPolicy {
  private readonly maxBytes: number;
  private readonly periodMs: number;

  constructor(options: RotationOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('rotation', 'must be an object { maxBytes?, interval? }');
    refuseUnknownOptions(options, ['maxBytes', 'interval'] satisfies (keyof RotationOptions)[], 'rotation');
    if (options.maxBytes !== undefined && (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 1)) {
      throw new InvalidOptionError('rotation.maxBytes', `must be a positive integer, got ${String(options.maxBytes)}`);
    }
    if (options.interval !== undefined && options.interval !== 'day' && options.interval !== 'hour') {
      throw new InvalidOptionError('rotation.interval', `must be "day" or "hour", got ${JSON.stringify(options.interval)}`);
    }
    if (options.maxBytes === undefined && options.interval === undefined) throw new InvalidOptionError('rotation', 'give maxBytes, interval, or both');
    this.maxBytes = options.maxBytes ?? Infinity;
    this.periodMs = options.interval === 'hour' ? HOUR_MS : options.interval === 'day' ? DAY_MS : Infinity;
  }

  /** Whether a live file of `size` bytes whose first event is at `firstMs` must be closed before an event at `nowMs`. */
  due(size: number, firstMs: number | undefined, nowMs: number): boolean {
    if (size === 0) return false;
    if (size >= this.maxBytes) return true;
    return this.periodMs !== Infinity && firstMs !== undefined && Math.floor(nowMs / this.periodMs) !== Math.floor(firstMs / this.periodMs);
  }
}

/** Decides which closed segments may go. */
export class RetentionPolicy {
  private readonly maxAgeMs: number;
  private readonly minAgeMs: number;

  constructor(options: RetentionOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('retention', 'must be an object { maxAgeDays, minAgeDays? }');
    refuseUnknownOptions(options, ['maxAgeDays', 'minAgeDays'] satisfies (keyof RetentionOptions)[], 'retention');
    const min = options.minAgeDays ?? DEFAULT_MIN_RETENTION_DAYS;
    if (typeof options.maxAgeDays !== 'number' || !(options.maxAgeDays > 0)) throw new InvalidOptionError('retention.maxAgeDays', `must be a positive number of days, got ${String(options.maxAgeDays)}`);
    if (typeof min !== 'number' || !(min >= 0)) throw new InvalidOptionError('retention.minAgeDays', `must be a number of days ≥ 0, got ${String(min)}`);
    if (options.maxAgeDays < min) {
      throw new InvalidOptionError('retention.maxAgeDays', `${options.maxAgeDays} days is below the retention floor of ${min} days (retention.minAgeDays)`);
    }
    this.maxAgeMs = options.maxAgeDays * DAY_MS;
    this.minAgeMs = min * DAY_MS;
  }

  /** The oldest segments past their age, contiguous from the oldest (a gap in the middle would break the chain). */
  expired(segments: readonly Segment[], nowMs: number): Segment[] {
    const out: Segment[] = [];
    for (const segment of segments) {
      const age = nowMs - segment.lastMs;
      if (!(age > this.maxAgeMs && age > this.minAgeMs)) break;
      out.push(segment);
    }
    return out;
  }
}

/** The lowest seq every journal-fed sink has delivered (from `.delivery/*.cursor`), or undefined without cursors. */
export function deliveredUpTo(rootLogDir: string): number | undefined {
  const dir = join(rootLogDir, '.delivery');
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.cursor'));
  } catch {
    return undefined;
  }
  let lowest: number | undefined;
  for (const name of names) {
    try {
      const seq = (JSON.parse(readFileSync(join(dir, name), 'utf8')) as { seq?: unknown }).seq;
      if (typeof seq === 'number') lowest = lowest === undefined ? seq : Math.min(lowest, seq);
    } catch {
      return 0; // an unreadable cursor: assume nothing is delivered
    }
  }
  return lowest;
}
