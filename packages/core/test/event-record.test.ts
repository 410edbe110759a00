// The event record: snake_case fields, µs timestamps that never go backwards, UUIDv7 ids, gap-free seq, source.
import { expect } from 'chai';
import sinon from 'sinon';
import { hostname } from 'node:os';
import { AuditLogger, GENESIS_HASH, computeHash, parseTimestampUs, type AuditEvent } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { readJsonl } from './helpers';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('event record', () => {
  it('has the first seed fields in snake_case plus id, seq, actor, source and the hash chain', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', experimentName: 'exp-1', actor: 'pipeline' });
    await logger.logEvent({ action_type: 'tag_add', details: { tag_name: 'defect', samples_affected: 5 } });
    await logger.logEvent({ action_type: 'tag_add', details: {}, actor: 'alice' });
    await logger.close();
    const [first, second] = readJsonl(dir) as [AuditEvent, AuditEvent];
    expect(Object.keys(first)).to.deep.equal(['id', 'seq', 'timestamp', 'action_type', 'status', 'details', 'error', 'actor', 'source', 'prev_hash', 'hash']);
    expect(first.source).to.include({ host: hostname(), pid: process.pid, experiment: 'exp-1' });
    expect([first.actor, second.actor]).to.deep.equal(['pipeline', 'alice']);
    expect(first.error).to.equal(null);
    expect(first.prev_hash).to.equal(GENESIS_HASH);
    expect(second.prev_hash).to.equal(first.hash);
    expect(computeHash(first)).to.equal(first.hash);
    expect(computeHash(second)).to.equal(second.hash);
  });

  it('stamps ISO 8601 UTC with exactly six fractional digits, ids as time-ordered UUIDv7, seq 1..n without gaps', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    const returned = await Promise.all(Array.from({ length: 500 }, (_, i) => logger.logEvent('tick', { i })));
    await logger.close();
    const events = readJsonl(dir);
    expect(events.map((e) => e.seq)).to.deep.equal(Array.from({ length: 500 }, (_, i) => i + 1));
    // Concurrent callers are ordered by seq in call order.
    expect(events.map((e) => e.details.i)).to.deep.equal(Array.from({ length: 500 }, (_, i) => i));
    expect(returned.map((e) => e.seq)).to.deep.equal(events.map((e) => e.seq));
    for (const e of events) {
      expect(e.timestamp).to.match(TIMESTAMP);
      expect(e.id).to.match(UUID_V7);
    }
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.timestamp > events[i - 1]!.timestamp, `timestamp ${i}`).to.equal(true);
      expect(events[i]!.id > events[i - 1]!.id, `id ${i}`).to.equal(true);
    }
    expect(new Set(events.map((e) => e.id)).size).to.equal(500);
    // The id's 48-bit millisecond prefix is the timestamp's millisecond.
    const e = events[0]!;
    const idMs = parseInt(e.id.replace(/-/g, '').slice(0, 12), 16);
    expect(idMs).to.equal(Math.floor(parseTimestampUs(e.timestamp) / 1000));
  });

  it('parses timestamps to the microsecond; one without a zone (the first seed\'s isoformat()) is UTC whatever TZ says', () => {
    const saved = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const utc = parseTimestampUs('2026-05-27T14:30:01.123456Z');
      expect(utc).to.equal(Date.UTC(2026, 4, 27, 14, 30, 1) * 1000 + 123_456);
      expect(parseTimestampUs('2026-05-27T14:30:01.123456')).to.equal(utc);
      expect(parseTimestampUs('2026-05-27 14:30:01.123456')).to.equal(utc);
      expect(parseTimestampUs('2026-05-27T16:30:01.123456+02:00')).to.equal(utc);
      expect(parseTimestampUs('2026-05-27T16:30:01.123456+0200')).to.equal(utc);
      expect(parseTimestampUs('2026-05-27T14:30:01')).to.equal(utc - 123_456);
      expect(parseTimestampUs('2026-05-27T14:30')).to.equal(utc - 1_123_456);
      expect(parseTimestampUs('2026-05-27T16:30:01.123456+02')).to.equal(utc);
      expect(parseTimestampUs('2026-05-27')).to.equal(Date.UTC(2026, 4, 27) * 1000);
      expect(parseTimestampUs('2026-02-31T00:00:00Z')).to.be.NaN;
      expect(parseTimestampUs('0050-06-01T00:00:00Z')).to.equal(Date.parse('0050-06-01T00:00:00Z') * 1000);
      expect(parseTimestampUs('2026-01-01-05')).to.be.NaN; // an offset needs a time
      expect(parseTimestampUs('2026-05-27T14:30:61Z')).to.be.NaN;
      expect(parseTimestampUs('yesterday')).to.be.NaN;
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  describe('with the wall clock stepped back (sinon fake timers)', () => {
    let clock: sinon.SinonFakeTimers | undefined;
    afterEach(() => clock?.restore());

    it('never goes backwards within a process, and follows the wall clock forward', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
      // Times just ahead of the real clock: the process clock is shared and monotonic, so a fake
      // time far in the future would hold every later test's timestamps there.
      const base = (Math.floor(Date.now() / 1000) + 2) * 1000;
      const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 19);
      clock = sinon.useFakeTimers({ now: base, toFake: ['Date', 'performance'] });
      const a = await logger.logEvent('before step');
      clock.setSystemTime(base - 1000); // NTP steps the clock back 1 s
      const b = await logger.logEvent('after step back');
      const c = await logger.logEvent('still behind');
      clock.setSystemTime(base + 2000); // and forward again
      const d = await logger.logEvent('after step forward');
      clock.restore();
      clock = undefined;
      await logger.close();
      const stamps = [a, b, c, d].map((e) => e.timestamp);
      for (const t of stamps) expect(t).to.match(TIMESTAMP);
      expect(stamps[0]!.startsWith(iso(base) + '.')).to.equal(true);
      expect(stamps[1]! > stamps[0]!).to.equal(true);
      expect(stamps[2]! > stamps[1]!).to.equal(true);
      expect(stamps[3]!.startsWith(iso(base + 2000) + '.')).to.equal(true);
      expect(readJsonl(dir).map((e) => e.timestamp)).to.deep.equal(stamps);
      const ids = [a, b, c, d].map((e) => e.id);
      expect([...ids].sort()).to.deep.equal(ids);
    });
  });
});
