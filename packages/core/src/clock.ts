// The process-wide clock: microsecond UTC timestamps that never go backwards within a process.

const MAX_DRIFT_US = 2_000;

/** Microseconds since the epoch, strictly increasing across every logger of this process. */
export class MicrosecondClock {
  private wallAnchorUs = Date.now() * 1000;
  private perfAnchorMs = performance.now();
  private lastUs = 0;

  /** The current time in microseconds, greater than any value returned before. */
  nowUs(): number {
    let t = Math.floor(this.wallAnchorUs + (performance.now() - this.perfAnchorMs) * 1000);
    const wall = Date.now() * 1000;
    // The monotonic clock drifts from wall time (NTP slews and steps): follow the wall clock
    // forward at once, and when it steps back, hold the line until it catches up.
    if (Math.abs(wall - t) > MAX_DRIFT_US) {
      this.wallAnchorUs = wall;
      this.perfAnchorMs = performance.now();
      t = wall;
    }
    if (t <= this.lastUs) t = this.lastUs + 1;
    this.lastUs = t;
    return t;
  }
}

/** The one clock shared by the loggers of this process. */
export const processClock = new MicrosecondClock();

let cachedSecond = -1;
let cachedPrefix = '';

/** Formats microseconds since the epoch as ISO 8601 UTC with six fractional digits and a Z. */
export function formatTimestamp(us: number): string {
  const second = Math.floor(us / 1_000_000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20); // 2026-05-27T14:30:05.
  }
  const fraction = String(us - second * 1_000_000);
  return cachedPrefix + '000000'.slice(fraction.length) + fraction + 'Z';
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Microseconds since the epoch of an ISO 8601 date or time, or undefined when it is not one: seconds,
 * fraction (kept to the microsecond) and zone optional; a time without a zone is UTC, as every
 * timestamp auditrail writes and the first seed's `datetime.now().isoformat()`, whatever TZ says; a
 * space may stand for the T; an offset may be +hh, +hhmm or +hh:mm. Impossible dates (02-31) are refused.
 */
export function parseIsoTimestampUs(text: string): number | undefined {
  const m = ISO_TIME.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  // setUTCFullYear, not Date.UTC, which reads years 0 to 99 as 1900 to 1999.
  const back = new Date(0);
  back.setUTCFullYear(year, month - 1, day);
  back.setUTCHours(hour, minute, second, 0);
  const ms = back.getTime();
  // 2026-02-31 rolls over to March: refuse instead of guessing.
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

/**
 * Microseconds since the epoch of a log's timestamp; NaN when it is not a time. ISO 8601 as
 * `parseIsoTimestampUs` reads it (zoneless is UTC), else whatever Date.parse makes of it (an RFC 2822 date).
 */
export function parseTimestampUs(timestamp: string): number {
  const us = parseIsoTimestampUs(timestamp);
  if (us !== undefined) return us;
  if (/^\s*\d{4}-\d{2}-\d{2}/.test(timestamp)) return NaN; // ISO-looking but impossible: Date.parse would roll 02-31 over
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? NaN : ms * 1000;
}
