// Parses the times users give --since and --until: ISO 8601, a bare date, a duration ago, or now/today/yesterday.

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
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
  return parseDateTimeUs(value);
}

function unitUs(unit: string): number {
  const u = unit.toLowerCase();
  if (u === 'us' || u === 'ms') return UNIT_US[u]!;
  return UNIT_US[u[0]!]!;
}

function parseDateTimeUs(value: string): number | undefined {
  const m = DATE_TIME.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2026-02-31 over to March: refuse instead of guessing.
  const back = new Date(ms);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const fractionUs = Number((m[7] ?? '').padEnd(6, '0').slice(0, 6));
  const offsetUs = zoneOffsetUs(m[8]);
  if (offsetUs === undefined) return undefined;
  return ms * 1000 + fractionUs - offsetUs;
}

function zoneOffsetUs(zone: string | undefined): number | undefined {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  const sign = zone[0] === '-' ? -1 : 1;
  return sign * (hours * 60 + minutes) * 60_000_000;
}
