// The readable line of `auditrail show`, and what it escapes.
import { expect } from 'chai';
import { formatEvent, printable, wantsColor } from '@auditrail/cli';

const EVENT = { timestamp: '2026-05-27T14:30:05.456789Z', seq: 42, status: 'WARNING', action_type: 'Drift detected', actor: null, details: { feature: 'age', drift_score: 0.8 }, error: null };

describe('formatEvent', () => {
  it('prints time, seq, status, action, actor, details and error on one line', () => {
    expect(formatEvent(EVENT)).to.equal('2026-05-27T14:30:05.456789Z #42 WARNING Drift detected {"feature":"age","drift_score":0.8}');
    expect(formatEvent({ ...EVENT, status: 'failed', actor: 'alice', details: {}, error: 'Checkpoint file not found' })).to.equal(
      '2026-05-27T14:30:05.456789Z #42 failed  Drift detected actor=alice error="Checkpoint file not found"',
    );
  });

  it('leaves out the seq of files that have none (the seeds\' own files)', () => {
    expect(formatEvent({ ...EVENT, seq: 0 })).to.equal('2026-05-27T14:30:05.456789Z WARNING Drift detected {"feature":"age","drift_score":0.8}');
  });

  it('colours known statuses and leaves unknown ones plain', () => {
    expect(formatEvent({ ...EVENT, status: 'CRITICAL' }, { color: true })).to.include('\x1b[1;35mCRITICAL\x1b[0m');
    expect(formatEvent({ ...EVENT, status: 'success' }, { color: true })).to.include('\x1b[32msuccess\x1b[0m');
    expect(formatEvent({ ...EVENT, status: 'P2' }, { color: true })).to.include(' P2      Drift');
  });

  it('escapes controls, C1 codes and bidi overrides, so a log cannot steer the terminal or hide text', () => {
    expect(printable('a\x1b[2Jb\u009bc\u202Ed\u2066e\nf')).to.equal('a\\u001b[2Jb\\u009bc\\u202ed\\u2066e\\u000af');
    expect(printable('ünïcödé 日本 ✓')).to.equal('ünïcödé 日本 ✓');
    const line = formatEvent({ ...EVENT, actor: 'x\x07', details: { k: 'v\u202E' }, error: 'e\u0085' });
    expect(line).not.to.match(/[\x00-\x1f\x7f-\x9f\u202e]/);
  });
});

describe('wantsColor', () => {
  it('follows the TTY, NO_COLOR and FORCE_COLOR', () => {
    expect(wantsColor({ isTTY: true }, {})).to.equal(true);
    expect(wantsColor({ isTTY: false }, {})).to.equal(false);
    expect(wantsColor({ isTTY: true }, { NO_COLOR: '1' })).to.equal(false);
    expect(wantsColor({ isTTY: true }, { NO_COLOR: '' })).to.equal(true);
    expect(wantsColor({ isTTY: false }, { FORCE_COLOR: '1' })).to.equal(true);
    expect(wantsColor({ isTTY: true }, { FORCE_COLOR: '0' })).to.equal(false);
  });
});
