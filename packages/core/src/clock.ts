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

const TIMESTAMP_RE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses an ISO 8601 timestamp (any fraction length, kept to the microsecond) to microseconds since
 * the epoch; NaN when malformed. One without a zone is UTC, as every timestamp auditrail writes and the
 * first seed's `datetime.now().isoformat()` (whatever the reader's TZ); a space may stand for the `T`.
 */
export function parseTimestampUs(timestamp: string): number {
  const m = TIMESTAMP_RE.exec(timestamp);
  if (!m) {
    const ms = Date.parse(timestamp);
    return Number.isNaN(ms) ? NaN : ms * 1000;
  }
  const [, date, time, fractionText, zone] = m;
  const offset = zone === undefined || zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const seconds = Date.parse(`${date}T${time}${offset}`);
  if (Number.isNaN(seconds)) return NaN;
  const fraction = (fractionText ?? '').padEnd(6, '0').slice(0, 6);
  return seconds * 1000 + Number(fraction);
}
