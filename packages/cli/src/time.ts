// Parses the times users give --since and --until: ISO 8601, a bare date, a duration ago, or now/today/yesterday.
import { parseIsoTimestampUs } from '@auditrail/core';

const DURATION = /^(\d+(?:\.\d+)?)\s*(us|ms|s|sec|secs|m|min|mins|h|hr|hrs|d|day|days|w|wk|wks)$/i;

const UNIT_US: Record<string, number> = {
  us: 1,
  ms: 1_000,
  s: 1_000_000,
  m: 60_000_000,
  h: 3_600_000_000,
  d: 86_400_000_000,
  w: 604_800_000_000,
};

const DAY_US = UNIT_US.d!;

/** What a valid time looks like, for error messages. */
export const TIME_FORMS = 'an ISO 8601 time (2026-05-27T14:30:00Z), a date (2026-05-27, midnight UTC), a duration ago (90s, 30m, 2h, 7d, 1w), now, today or yesterday';

/**
 * Microseconds since the epoch for a user-given time, or undefined when it is not one.
 * A time without a zone is UTC, as every audit timestamp is.
 */
export function parseTimeUs(text: string, nowUs: number = Date.now() * 1000): number | undefined {
  const value = text.trim();
  const word = value.toLowerCase();
  if (word === 'now') return nowUs;
  if (word === 'today') return Math.floor(nowUs / DAY_US) * DAY_US;
  if (word === 'yesterday') return Math.floor(nowUs / DAY_US) * DAY_US - DAY_US;
  const duration = DURATION.exec(value);
  if (duration) return nowUs - Math.round(Number(duration[1]) * unitUs(duration[2]!));
  return parseIsoTimestampUs(value);
}

function unitUs(unit: string): number {
  const u = unit.toLowerCase();
  if (u === 'us' || u === 'ms') return UNIT_US[u]!;
  return UNIT_US[u[0]!]!;
}
