// The delivery engine's policies: backoff caps and full jitter, Retry-After, batching by count, bytes and time (sinon fake timers).
import { expect } from 'chai';
import sinon from 'sinon';
import { AuditLogger, InvalidOptionError, resolvePolicy, retryDelay, type AuditBusEvents } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { ScriptedSink, retryable } from './delivery-fixtures';

const policy = { initialBackoffMs: 100, maxBackoffMs: 2000, maxRetryAfterMs: 60_000 };

describe('delivery policy: retry delays', () => {
  it('draws each delay uniformly below min(cap, base * 2^(attempt-1)) (full jitter)', () => {
    const almostOne = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 10, 60].map((a) => retryDelay(a, policy, undefined, almostOne))).to.deep.equal([99, 199, 399, 799, 1599, 1999, 1999, 1999]);
    expect([1, 5, 60].map((a) => retryDelay(a, policy, undefined, () => 0))).to.deep.equal([0, 0, 0]);
    expect(retryDelay(3, policy, undefined, () => 0.5)).to.equal(200);
  });

  it('never exceeds the cap, whatever the attempt (no overflow at huge attempts)', () => {
    for (let attempt = 1; attempt < 2000; attempt += 37) {
      const delay = retryDelay(attempt, policy);
      expect(delay).to.be.at.least(0).and.below(2000);
    }
  });

  it('honours a longer Retry-After, capped by maxRetryAfterMs; a shorter one does not shorten the backoff', () => {
    expect(retryDelay(1, policy, 5000, () => 0.5)).to.equal(5000);
    expect(retryDelay(1, policy, 10 * 60_000, () => 0.5)).to.equal(60_000);
    expect(retryDelay(6, policy, 10, () => 0.999)).to.equal(1998);
    expect(retryDelay(1, policy, Number.NaN, () => 0.5)).to.equal(50);
  });

  it('fails fast on a bad policy field, naming it', () => {
    expect(() => resolvePolicy('delivery.policy', { maxBatchSize: 0 })).to.throw(InvalidOptionError, 'delivery.policy.maxBatchSize');
    expect(() => resolvePolicy('p', { exportTimeoutMs: -1 })).to.throw(InvalidOptionError, 'p.exportTimeoutMs');
    expect(() => resolvePolicy('p', { initialBackoffMs: 500, maxBackoffMs: 100 })).to.throw(InvalidOptionError, 'p.maxBackoffMs');
    expect(() => resolvePolicy('p', { startFrom: 'middle' as 'end' })).to.throw(InvalidOptionError, 'p.startFrom');
    expect(() => resolvePolicy('p', { batchSize: 3 } as never)).to.throw(InvalidOptionError, 'p.batchSize');
    expect(resolvePolicy('p', { maxAttempts: Infinity }, { concurrency: 4 })).to.include({ maxAttempts: Infinity, concurrency: 4, maxBatchSize: 512 });
  });
});

describe('delivery policy: batching and backoff in the engine', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => clock.restore());

  function logger(sink: ScriptedSink): AuditLogger {
    return new AuditLogger({ rootLogDir: tempDir(), format: 'jsonl', fsync: 'never', sinks: [sink] });
  }

  it('sends full batches at once and the partial rest only when maxBatchDelayMs has passed', async () => {
    const sink = new ScriptedSink({ delivery: { maxBatchSize: 10, maxBatchDelayMs: 500 } });
    const log = logger(sink);
    for (let i = 0; i < 35; i++) await log.logEvent('step', { i });
    await clock.tickAsync(0);
    expect(sink.calls.map((b) => b.length)).to.deep.equal([10, 10, 10]);
    await clock.tickAsync(499);
    expect(sink.calls).to.have.length(3);
    await clock.tickAsync(1);
    expect(sink.calls.map((b) => b.length)).to.deep.equal([10, 10, 10, 5]);
    expect(sink.calls.flat().map((e) => e.details.i)).to.deep.equal([...Array(35).keys()]);
    await log.close();
  });

  it('cuts batches by bytes: a batch never exceeds maxBatchBytes, except a single larger event alone', async () => {
    const sink = new ScriptedSink({ delivery: { maxBatchSize: 1000, maxBatchBytes: 2000, maxBatchDelayMs: 100 } });
    const log = logger(sink);
    for (let i = 0; i < 20; i++) await log.logEvent('step', { pad: 'x'.repeat(i === 7 ? 5000 : 100) });
    await clock.tickAsync(100);
    await clock.tickAsync(100);
    const sizes = sink.calls.map((batch) => batch.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)) + 1, 0));
    expect(sink.calls.flat()).to.have.length(20);
    sink.calls.forEach((batch, i) => {
      if (batch.length > 1) expect(sizes[i]).to.be.at.most(2000);
    });
    expect(sink.calls.some((batch) => batch.length === 1 && batch[0]!.details.pad === 'x'.repeat(5000))).to.equal(true);
    await log.close();
  });

  it('waits for the time window with a trickle of events, then sends them together', async () => {
    const sink = new ScriptedSink({ delivery: { maxBatchSize: 100, maxBatchDelayMs: 1000 } });
    const log = logger(sink);
    for (let i = 0; i < 3; i++) {
      await log.logEvent('step', { i });
      await clock.tickAsync(200);
    }
    expect(sink.calls).to.have.length(0);
    await clock.tickAsync(400);
    expect(sink.calls.map((b) => b.length)).to.deep.equal([3]);
    await log.close();
  });

  it('retries after a capped, jittered backoff and never before its delay has passed', async () => {
    const sink = new ScriptedSink({ delivery: { initialBackoffMs: 100, maxBackoffMs: 400, maxBatchDelayMs: 0 } }, (_b, call) => (call <= 6 ? retryable(`fail ${call}`) : { code: 'ok' }));
    const log = logger(sink);
    const retries: AuditBusEvents['retry'][] = [];
    log.on('retry', (r) => retries.push(r));
    await log.logEvent('step');
    await clock.tickAsync(0);
    for (let attempt = 1; attempt <= 6; attempt++) {
      expect(sink.calls).to.have.length(attempt);
      const delay = retries[attempt - 1]!.delayMs;
      expect(delay).to.be.below(Math.min(400, 100 * 2 ** (attempt - 1)));
      if (delay > 0) {
        await clock.tickAsync(delay - 1);
        expect(sink.calls, `attempt ${attempt} retried early`).to.have.length(attempt);
      }
      await clock.tickAsync(1);
    }
    expect(sink.calls).to.have.length(7);
    expect(retries.map((r) => r.attempt)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(log.stats().scripted).to.include({ delivered: 1, retried: 6, failed: 6, state: 'ok' });
    await log.close();
  });

  it('waits as long as the sink\'s Retry-After when it is longer than the backoff', async () => {
    const sink = new ScriptedSink({ delivery: { maxBatchDelayMs: 0 } }, (_b, call) => (call === 1 ? retryable('busy', 30_000) : { code: 'ok' }));
    const log = logger(sink);
    await log.logEvent('step');
    await clock.tickAsync(29_999);
    expect(sink.calls).to.have.length(1);
    await clock.tickAsync(1);
    expect(sink.delivered).to.have.length(1);
    await log.close();
  });

  it('aborts an export that outlives exportTimeoutMs and retries it', async () => {
    const sink = new ScriptedSink({ delivery: { exportTimeoutMs: 1000, maxBatchDelayMs: 0, initialBackoffMs: 10, maxBackoffMs: 10 } }, (_b, call) => (call === 1 ? 'hang' : { code: 'ok' }));
    const log = logger(sink);
    await log.logEvent('step');
    await clock.tickAsync(999);
    expect(sink.signals[0]!.aborted).to.equal(false);
    await clock.tickAsync(1);
    expect(sink.signals[0]!.aborted).to.equal(true);
    await clock.tickAsync(10);
    expect(sink.delivered).to.have.length(1);
    expect(log.stats().scripted!.lastError).to.include('timed out after 1000 ms');
    await log.close();
  });

  it('runs up to `concurrency` exports at once and still commits the cursor in order', async () => {
    const gates: (() => void)[] = [];
    const sink = new ScriptedSink({ delivery: { maxBatchSize: 5, concurrency: 3, maxBatchDelayMs: 0 } }, () => new Promise((resolve) => gates.push(() => resolve({ code: 'ok' }))));
    const log = logger(sink);
    for (let i = 0; i < 20; i++) await log.logEvent('step', { i });
    await clock.tickAsync(0);
    expect(sink.running).to.equal(3);
    gates[2]!(); // the third batch finishes first: the cursor must not pass the first two
    await clock.tickAsync(0);
    expect(log.stats().scripted!.cursor!.seq).to.equal(0);
    gates[0]!();
    gates[1]!();
    await clock.tickAsync(0);
    expect(log.stats().scripted!.cursor!.seq).to.equal(15);
    while (gates.length < 4) await clock.tickAsync(0);
    gates[3]!();
    await clock.tickAsync(0);
    expect(log.stats().scripted!.cursor!.seq).to.equal(20);
    expect(sink.maxRunning).to.equal(3);
    await log.close();
  });
});
