// The event-selection options shared by every command that reads events (show, export, summary, tail, ...).
import { InvalidOptionError } from '@auditrail/core';
import { InvalidArgumentError, type Command } from 'commander';
import type { Selection } from './select';
import { parseTimeUs, TIME_FORMS } from './time';

/** Raw values of the selection options as commander parses them. */
export interface SelectionFlags {
  /** --action, repeatable, each a comma list. */
  action?: string[];
  /** --status, repeatable, each a comma list. */
  status?: string[];
  /** --since, in microseconds. */
  since?: number;
  /** --until, in microseconds. */
  until?: number;
  /** --limit. */
  limit?: number;
  /** --newest-first. */
  newestFirst?: boolean;
}

/** Which selection options a command offers. */
export interface SelectionOptionSet {
  /** --limit and --newest-first too (not for summary). */
  ordering?: boolean;
}

/** Adds --action, --status, --since, --until and, with `ordering`, --limit and --newest-first. */
export function addSelectionOptions(command: Command, set: SelectionOptionSet = { ordering: true }): Command {
  command
    .option('-a, --action <names>', 'only these action types (repeatable, or a comma list)', collectList, undefined)
    .option('-s, --status <statuses>', 'only these statuses, any case (repeatable, or a comma list)', collectList, undefined)
    .option('--since <time>', 'only events at or after this time: ISO 8601, a date, or a duration ago (30m, 2h, 7d)', timeOption)
    .option('--until <time>', 'only events at or before this time (same forms as --since)', timeOption);
  if (set.ordering) {
    command
      .option('-n, --limit <count>', 'at most this many events (the oldest, or the newest with --newest-first)', positiveInteger)
      .option('--newest-first', 'newest events first');
  }
  return command;
}

/** Turns parsed flags into a selection; refuses a --since later than --until. */
export function selectionFrom(flags: SelectionFlags): Selection {
  if (flags.since !== undefined && flags.until !== undefined && flags.since > flags.until) {
    throw new InvalidOptionError('--since', 'is later than --until, so no event can match');
  }
  return {
    ...(flags.action ? { actions: new Set(flags.action) } : {}),
    ...(flags.status ? { statuses: new Set(flags.status.map((s) => s.toLowerCase())) } : {}),
    ...(flags.since !== undefined ? { sinceUs: flags.since } : {}),
    ...(flags.until !== undefined ? { untilUs: flags.until } : {}),
    ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
    ...(flags.newestFirst ? { newestFirst: true } : {}),
  };
}

/** Accumulates a repeatable option whose values may also be comma lists; empty entries are refused. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw new InvalidArgumentError(`${JSON.stringify(value)} has an empty entry.`);
  return [...(previous ?? []), ...items];
}

/** Parses a --since/--until value to microseconds since the epoch. */
export function timeOption(value: string): number {
  const us = parseTimeUs(value);
  if (us === undefined) throw new InvalidArgumentError(`Expected ${TIME_FORMS}.`);
  return us;
}

/** Parses a whole number of at least 1. */
export function positiveInteger(value: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('Expected a whole number of at least 1.');
  return n;
}
