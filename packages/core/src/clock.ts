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

const TIMESTAMP_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

/** Parses an ISO 8601 UTC timestamp (any fraction length) to microseconds; NaN when malformed. */
export function parseTimestampUs(timestamp: string): number {
  const m = TIMESTAMP_RE.exec(timestamp);
  if (!m) {
    const ms = Date.parse(timestamp);
    return Number.isNaN(ms) ? NaN : ms * 1000;
  }
  const seconds = Date.parse(m[1] + 'Z');
  const fraction = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return seconds * 1000 + Number(fraction);
}
