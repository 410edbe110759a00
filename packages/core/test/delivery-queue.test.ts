// Format 'none': the bounded in-memory queue, its overflow policies, and every drop counted and emitted.
import { expect } from 'chai';
import { AuditLogger, InvalidOptionError, type AuditBusEvents, type OverflowPolicy } from '@auditrail/core';
import { ScriptedSink, eventually } from './delivery-fixtures';

/** A sink held shut until the test opens it: everything logged meanwhile waits in the queue. */
function gatedSink(): { sink: ScriptedSink; open: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const sink = new ScriptedSink({ name: 'remote', delivery: { maxBatchSize: 1, maxBatchDelayMs: 0 } }, async () => {
    await gate;
    return { code: 'ok' };
  });
  return { sink, open: release };
}

function queuedLogger(sink: ScriptedSink, overflow: OverflowPolicy, maxEvents = 3): { logger: AuditLogger; drops: AuditBusEvents['drop'][] } {
  const logger = new AuditLogger({ format: 'none', sinks: [sink], delivery: { queue: { maxEvents, overflow } } });
  const drops: AuditBusEvents['drop'][] = [];
  logger.on('drop', (d) => drops.push(d));
  return { logger, drops };
}

describe('delivery without local files: the in-memory queue', () => {
  it("'drop-newest' refuses events once full, counting and emitting each drop", async () => {
    const { sink, open } = gatedSink();
    const { logger, drops } = queuedLogger(sink, 'drop-newest');
    for (let i = 0; i < 8; i++) await logger.logEvent('step', { i });
    await eventually(() => sink.calls.length === 1, 'the first export');
    // One event in flight, three queued: the other four were dropped.
    expect(drops).to.deep.equal([1, 1, 1, 1].map((count) => ({ sink: 'remote', count, policy: 'drop-newest' })));
    open();
    const result = await logger.flush({ timeoutMs: 10_000 });
    expect(result.sinks.remote).to.include({ done: true, pending: 0 });
    expect(sink.delivered.map((e) => e.details.i)).to.deep.equal([0, 1, 2, 3]);
    expect(logger.stats().remote).to.include({ delivered: 4, dropped: 4, lag: 0, cursor: null });
    await logger.close();
  });

  it("'drop-oldest' makes room by dropping the oldest queued event", async () => {
    const { sink, open } = gatedSink();
    const { logger, drops } = queuedLogger(sink, 'drop-oldest');
    for (let i = 0; i < 8; i++) await logger.logEvent('step', { i });
    open();
    await logger.flush({ timeoutMs: 10_000 });
    expect(sink.delivered.map((e) => e.details.i)).to.deep.equal([0, 5, 6, 7]);
    expect(drops.reduce((n, d) => n + d.count, 0)).to.equal(4);
    expect(drops.every((d) => d.policy === 'drop-oldest')).to.equal(true);
    await logger.close();
  });

  it("'block' holds logEvent's promise until the queue has room, and loses nothing", async () => {
    const { sink, open } = gatedSink();
    const { logger, drops } = queuedLogger(sink, 'block', 2);
    const settled: number[] = [];
    const calls = [];
    for (let i = 0; i < 6; i++) calls.push(logger.logEvent('step', { i }).then(() => settled.push(i)));
    await eventually(() => sink.calls.length === 1, 'the first export');
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).to.deep.equal([0, 1, 2]); // one in flight, two queued, three waiting
    open();
    await Promise.all(calls);
    await logger.flush({ timeoutMs: 10_000 });
    expect(sink.delivered.map((e) => e.details.i)).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(drops).to.deep.equal([]);
    await logger.close();
  });

  it('flush({ timeoutMs }) returns on time even while logEvent calls are blocked on a stuck sink', async () => {
    const sink = new ScriptedSink({ name: 'remote', delivery: { maxBatchSize: 1, maxBatchDelayMs: 0 } }, () => 'hang');
    const { logger, drops } = queuedLogger(sink, 'block', 1);
    const calls = [0, 1, 2, 3].map((i) => logger.logEvent('step', { i }));
    const result = await logger.flush({ timeoutMs: 100 });
    expect(result.ok).to.equal(false);
    expect(result.sinks.remote).to.include({ done: false });
    await logger.close({ timeoutMs: 10 });
    await Promise.all(calls); // released at close, their events reported dropped
    expect(drops.reduce((n, d) => n + d.count, 0)).to.equal(4);
  });

  it('reports what is still queued at close as dropped (policy "close"), since nothing keeps it', async () => {
    const sink = new ScriptedSink({ name: 'remote', delivery: { maxBatchDelayMs: 0 } }, () => 'hang');
    const { logger, drops } = queuedLogger(sink, 'drop-newest', 100);
    for (let i = 0; i < 5; i++) await logger.logEvent('step', { i });
    const closed = await logger.close({ timeoutMs: 50 });
    expect(closed.ok).to.equal(false);
    expect(closed.sinks.remote).to.include({ done: false, pending: 5 });
    expect(drops).to.deep.equal([{ sink: 'remote', count: 5, policy: 'close' }]);
    expect(logger.stats().remote).to.include({ dropped: 5, state: 'closed' });
    const after = await logger.flush(); // after close: at once, never hanging on a stopped sink
    expect(after.sinks.remote).to.include({ done: false, state: 'closed' });
  });

  it('fails fast on a bad queue option, naming it', () => {
    const sink = new ScriptedSink();
    expect(() => new AuditLogger({ format: 'none', sinks: [sink], delivery: { queue: { maxEvents: 0 } } })).to.throw(InvalidOptionError, 'delivery.queue.maxEvents');
    expect(() => new AuditLogger({ format: 'none', sinks: [sink], delivery: { queue: { overflow: 'spill' as OverflowPolicy } } })).to.throw(InvalidOptionError, 'delivery.queue.overflow');
  });
});
