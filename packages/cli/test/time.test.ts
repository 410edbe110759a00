// The times --since and --until accept, and the ones they refuse.
import { expect } from 'chai';
import { parseTimeUs } from '@auditrail/cli';

const NOW_US = Date.UTC(2026, 4, 27, 14, 30, 5, 456) * 1000 + 789; // 2026-05-27T14:30:05.456789Z
const at = (iso: string): number => Date.parse(iso) * 1000;

describe('parseTimeUs (--since, --until)', () => {
  it('reads ISO 8601 times to the microsecond, in UTC unless a zone is given', () => {
    expect(parseTimeUs('2026-05-27T14:30:05.456789Z')).to.equal(at('2026-05-27T14:30:05Z') + 456_789);
    expect(parseTimeUs('2026-05-27T14:30:05.4Z')).to.equal(at('2026-05-27T14:30:05Z') + 400_000);
    expect(parseTimeUs('2026-05-27T14:30:05.123456789Z'), 'nanoseconds are cut to microseconds').to.equal(at('2026-05-27T14:30:05Z') + 123_456);
    expect(parseTimeUs('2026-05-27T14:30:05')).to.equal(at('2026-05-27T14:30:05Z'));
    expect(parseTimeUs('2026-05-27 14:30')).to.equal(at('2026-05-27T14:30:00Z'));
    expect(parseTimeUs('2026-05-27T16:30:05+02:00')).to.equal(at('2026-05-27T14:30:05Z'));
    expect(parseTimeUs('2026-05-27T09:00:00-0530')).to.equal(at('2026-05-27T14:30:00Z'));
    expect(parseTimeUs('2026-05-27')).to.equal(at('2026-05-27T00:00:00Z'));
  });

  it('reads durations ago and the words now, today and yesterday', () => {
    expect(parseTimeUs('90s', NOW_US)).to.equal(NOW_US - 90_000_000);
    expect(parseTimeUs('30m', NOW_US)).to.equal(NOW_US - 1_800_000_000);
    expect(parseTimeUs('1.5h', NOW_US)).to.equal(NOW_US - 5_400_000_000);
    expect(parseTimeUs('7d', NOW_US)).to.equal(NOW_US - 7 * 86_400_000_000);
    expect(parseTimeUs('2w', NOW_US)).to.equal(NOW_US - 14 * 86_400_000_000);
    expect(parseTimeUs('250ms', NOW_US)).to.equal(NOW_US - 250_000);
    expect(parseTimeUs('now', NOW_US)).to.equal(NOW_US);
    expect(parseTimeUs('today', NOW_US)).to.equal(at('2026-05-27T00:00:00Z'));
    expect(parseTimeUs('Yesterday', NOW_US)).to.equal(at('2026-05-26T00:00:00Z'));
  });

  it('refuses what is not a time instead of guessing', () => {
    for (const bad of ['', 'garbage', '2026-02-31', '2026-13-01', '2026-05-27T24:00:00Z', '2026-05-27T14:60Z', '2026-05-27T14:30:00+25:00', '5 parsecs', '-2h', '27/05/2026', '1715000000']) {
      expect(parseTimeUs(bad, NOW_US), JSON.stringify(bad)).to.equal(undefined);
    }
  });
});
