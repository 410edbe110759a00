// The journal as the outbox: cursors, resuming after a restart, formats, dead letters, isolation, flush results.
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, MemoryBatchSink, cursorFileName, type AuditBusEvents, type AuditEvent, type DeadLetter, type LogFormat } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { ScriptedSink, eventually, permanent, retryable } from './delivery-fixtures';

const fast = { maxBatchDelayMs: 5, initialBackoffMs: 1, maxBackoffMs: 20 };

function readDeadLetters(dir: string): DeadLetter[] {
  const path = join(dir, 'dead_letter.jsonl');
  return existsSync(path) ? readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as DeadLetter) : [];
}

function cursorOf(dir: string, sink: string): { seq: number; offset: number; file: string } {
  return JSON.parse(readFileSync(join(dir, '.delivery', cursorFileName(sink)), 'utf8')) as { seq: number; offset: number; file: string };
}

describe('delivery: the journal is the outbox', () => {
  for (const format of ['jsonl', 'json', 'csv', ['json', 'csv']] as (LogFormat | LogFormat[])[]) {
    it(`delivers every event once in order and resumes from its cursor after a restart (format ${JSON.stringify(format)})`, async () => {
      const dir = tempDir();
      const first = new ScriptedSink({ name: 'remote', delivery: fast });
      const a = new AuditLogger({ rootLogDir: dir, format, sinks: [first] });
      const logged: AuditEvent[] = [];
      for (let i = 0; i < 50; i++) logged.push(await a.logEvent('step', { i }));
      const flushed = await a.flush({ timeoutMs: 10_000 });
      expect(flushed.ok).to.equal(true);
      expect(flushed.sinks.remote).to.include({ done: true, delivered: 50, deadLettered: 0, pending: 0, state: 'ok' });
      await a.close();
      expect(first.delivered.map((e) => e.seq)).to.deep.equal(logged.map((e) => e.seq));
      expect(cursorOf(dir, 'remote').seq).to.equal(50);
      expect(cursorOf(dir, 'remote').file).to.equal(format === 'jsonl' ? 'audit_log.jsonl' : 'outbox.jsonl');

      // A second run logs more: only the new events are sent.
      const second = new ScriptedSink({ name: 'remote', delivery: fast });
      const b = new AuditLogger({ rootLogDir: dir, format, sinks: [second] });
      for (let i = 0; i < 10; i++) logged.push(await b.logEvent('later', { i }));
      await b.close();
      expect(second.delivered.map((e) => e.seq)).to.deep.equal(logged.slice(50).map((e) => e.seq));
    });
  }

  it('a logger closed mid-outage resumes from its cursor and delivers the rest, nothing lost', async () => {
    const dir = tempDir();
    let up = true;
    const down = new ScriptedSink({ name: 'remote', delivery: { ...fast, maxBatchSize: 10 } }, () => (up ? { code: 'ok' } : retryable('unreachable')));
    const a = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [down] });
    const logged: AuditEvent[] = [];
    for (let i = 0; i < 30; i++) logged.push(await a.logEvent('step', { i }));
    await a.flush({ timeoutMs: 10_000 });
    up = false;
    for (let i = 30; i < 100; i++) logged.push(await a.logEvent('step', { i }));
    const closed = await a.close({ timeoutMs: 100 });
    expect(closed.ok).to.equal(false);
    expect(closed.sinks.remote!.pending).to.equal(70);
    expect(cursorOf(dir, 'remote').seq).to.equal(30);

    const back = new ScriptedSink({ name: 'remote', delivery: fast });
    const b = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [back] });
    const result = await b.flush({ timeoutMs: 10_000 });
    await b.close();
    expect(result.ok).to.equal(true);
    expect(back.delivered.map((e) => e.seq)).to.deep.equal(logged.slice(30).map((e) => e.seq));
    const all = new Set([...down.deliveredIds(), ...back.deliveredIds()]);
    expect([...all].sort()).to.deep.equal(logged.map((e) => e.id).sort());
  });

  it("startFrom 'end' skips what the journal held before the sink first ran; the default sends it", async () => {
    const dir = tempDir();
    const plain = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    for (let i = 0; i < 5; i++) await plain.logEvent('old', { i });
    await plain.close();
    const fromEnd = new ScriptedSink({ name: 'new-only', delivery: { ...fast, startFrom: 'end' } });
    const fromStart = new ScriptedSink({ name: 'everything', delivery: fast });
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [fromEnd, fromStart] });
    await logger.logEvent('new');
    await logger.close();
    expect(fromEnd.delivered.map((e) => e.action_type)).to.deep.equal(['new']);
    expect(fromStart.delivered.map((e) => e.action_type)).to.deep.equal(['old', 'old', 'old', 'old', 'old', 'new']);
  });

  it('a cursor that no longer matches the journal is relocated by seq, with a warning', async () => {
    const dir = tempDir();
    const a = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [new ScriptedSink({ name: 'remote', delivery: fast })] });
    for (let i = 0; i < 10; i++) await a.logEvent('step', { i });
    await a.close();
    const cursor = { ...cursorOf(dir, 'remote'), ino: 1, offset: 3, seq: 6 };
    writeFileSync(join(dir, '.delivery', cursorFileName('remote')), JSON.stringify(cursor));
    const sink = new ScriptedSink({ name: 'remote', delivery: fast });
    const warnings: string[] = [];
    const b = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    b.on('warning', (w) => warnings.push(w.code));
    b.addSink(sink);
    await b.close();
    expect(warnings).to.include('CURSOR_RELOCATED');
    expect(sink.delivered.map((e) => e.seq)).to.deep.equal([7, 8, 9, 10]);
  });

  it('an unreadable cursor file is reported and the sink starts from its startFrom (sending again rather than skipping)', async () => {
    const dir = tempDir();
    const a = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [new ScriptedSink({ name: 'remote', delivery: fast })] });
    for (let i = 0; i < 3; i++) await a.logEvent('step', { i });
    await a.close();
    writeFileSync(join(dir, '.delivery', cursorFileName('remote')), '{"v":1,"file":');
    const warnings: string[] = [];
    const sink = new ScriptedSink({ name: 'remote', delivery: fast });
    const b = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    b.on('warning', (w) => warnings.push(`${w.code}: ${w.message}`));
    b.addSink(sink);
    await b.close();
    expect(warnings.some((w) => w.startsWith('CURSOR_UNREADABLE') && w.includes('starting from the beginning'))).to.equal(true);
    expect(sink.delivered.map((e) => e.seq)).to.deep.equal([1, 2, 3]);
    expect(cursorOf(dir, 'remote').seq).to.equal(3);
  });

  it('dead-letters a permanent failure with its reason, never retries it, and goes on with later events', async () => {
    const dir = tempDir();
    const sink = new ScriptedSink({ name: 'strict', delivery: { ...fast, maxBatchSize: 1 } }, (batch) => (batch[0]!.status === 'FAILURE' ? permanent('HTTP 400: bad field') : { code: 'ok' }));
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [sink] });
    const letters: AuditBusEvents['dead_letter'][] = [];
    logger.on('dead_letter', (d) => letters.push(d));
    await logger.logEvent('a');
    const bad = await logger.logEvent('b', {}, 'FAILURE');
    await logger.logEvent('c');
    const result = await logger.flush({ timeoutMs: 10_000 });
    await logger.close();
    expect(result.sinks.strict).to.include({ done: true, pending: 0 });
    expect(sink.calls).to.have.length(3);
    expect(letters).to.deep.equal([{ sink: 'strict', count: 1, reason: 'HTTP 400: bad field' }]);
    const [letter] = readDeadLetters(dir);
    expect(letter).to.include({ sink: 'strict', reason: 'HTTP 400: bad field', attempts: 1 });
    expect(letter!.event).to.deep.equal(bad);
    expect(logger.stats().strict).to.include({ deadLettered: 1, delivered: 2 });
  });

  it('dead-letters after maxAttempts retryable failures, and events refused one by one in an accepted batch', async () => {
    const dir = tempDir();
    const tired = new ScriptedSink({ name: 'tired', delivery: { ...fast, maxAttempts: 3 } }, () => retryable('still down'));
    const picky = new ScriptedSink({ name: 'picky', delivery: fast }, (batch) => ({ code: 'ok', rejected: batch.flatMap((e, index) => (e.details.bad ? [{ index, reason: 'mapper_parsing_exception' }] : [])) }));
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [tired, picky] });
    await logger.logEvent('x', { bad: false });
    await logger.logEvent('y', { bad: true });
    await logger.close();
    expect(tired.calls).to.have.length(3);
    const letters = readDeadLetters(dir);
    expect(letters.filter((l) => l.sink === 'tired').map((l) => l.reason)).to.deep.equal(['gave up after 3 attempts: still down', 'gave up after 3 attempts: still down']);
    expect(letters.filter((l) => l.sink === 'picky').map((l) => [l.event!.action_type, l.reason])).to.deep.equal([['y', 'mapper_parsing_exception']]);
    expect(logger.stats().picky).to.include({ delivered: 1, deadLettered: 1 });
  });

  it('dead-letters a journal line that is not an event instead of stalling on it', async () => {
    const dir = tempDir();
    const a = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await a.logEvent('before');
    await a.close();
    appendFileSync(join(dir, 'audit_log.jsonl'), 'not json at all\n');
    const sink = new ScriptedSink({ name: 'remote', delivery: fast });
    const b = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [sink] });
    await b.close();
    expect(sink.delivered.map((e) => e.action_type)).to.deep.equal(['before']);
    const [letter] = readDeadLetters(dir);
    expect(letter!.line).to.equal('not json at all');
    expect(letter!.reason).to.include('not valid JSON');
  });

  it('isolates a sink that keeps failing: the others deliver everything meanwhile, and it recovers', async () => {
    const dir = tempDir();
    let healthy = false;
    const flaky = new ScriptedSink({ name: 'flaky', delivery: { ...fast, isolateAfterFailures: 3 } }, () => (healthy ? { code: 'ok' } : retryable('503')));
    const good = new ScriptedSink({ name: 'good', delivery: fast });
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [flaky, good] });
    const seen: string[] = [];
    logger.on('isolated', (e) => seen.push(`isolated ${e.sink}`));
    logger.on('recovered', (e) => seen.push(`recovered ${e.sink}`));
    for (let i = 0; i < 40; i++) await logger.logEvent('step', { i });
    await eventually(() => logger.stats().good!.delivered === 40 && logger.stats().flaky!.state === 'isolated', 'the good sink done, the flaky one isolated');
    const partial = await logger.flush({ timeoutMs: 50 });
    expect(partial.ok).to.equal(false);
    expect(partial.sinks.good).to.include({ done: true, pending: 0 });
    expect(partial.sinks.flaky).to.include({ done: false, delivered: 0, state: 'isolated', lastError: '503' });
    expect(partial.sinks.flaky!.pending).to.equal(40);
    healthy = true;
    const full = await logger.flush({ timeoutMs: 10_000 });
    await logger.close();
    expect(full.sinks.flaky).to.include({ done: true, delivered: 40, state: 'ok' });
    expect(seen).to.deep.equal(['isolated flaky', 'recovered flaky']);
  });

  it('filters per sink, and the cursor still moves past events the sink does not take', async () => {
    const dir = tempDir();
    const failures = new ScriptedSink({ name: 'failures', filter: { minSeverity: 'WARNING' }, delivery: fast });
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [failures] });
    await logger.logEvent('a');
    await logger.logEvent('b', {}, 'WARNING');
    await logger.logEvent('c');
    await logger.close();
    expect(failures.delivered.map((e) => e.action_type)).to.deep.equal(['b']);
    expect(cursorOf(dir, 'failures').seq).to.equal(3);
  });

  it('refuses two batch sinks of one name (they would share a cursor file)', () => {
    const logger = new AuditLogger({ rootLogDir: tempDir(), format: 'jsonl', sinks: [new ScriptedSink({ name: 'x' })] });
    expect(() => logger.addSink(new ScriptedSink({ name: 'x' }))).to.throw(/two batch sinks are named "x"/);
    return logger.close();
  });

  it('acknowledged delivery: chosen events resolve only once the named sink confirmed, and reject when it refuses', async () => {
    const dir = tempDir();
    let answer: 'ok' | 'refuse' = 'ok';
    const gate: { open?: () => void } = {};
    const sink = new ScriptedSink({ name: 'siem', delivery: fast }, (batch) =>
      batch.some((e) => e.status === 'FAILURE') && answer === 'ok' ? new Promise((resolve) => (gate.open = () => resolve({ code: 'ok' }))) : answer === 'ok' ? { code: 'ok' } : permanent('schema mismatch'),
    );
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [sink], delivery: { acknowledged: { sinks: ['siem'], statuses: ['FAILURE'] } } });
    await logger.logEvent('routine'); // not chosen: resolves at once
    let settled = false;
    const critical = logger.logEvent('Model deployed', {}, 'FAILURE').then((e) => {
      settled = true;
      return e;
    });
    await eventually(() => gate.open !== undefined, 'the export of the critical event');
    expect(settled).to.equal(false);
    gate.open!();
    expect((await critical).status).to.equal('FAILURE');
    answer = 'refuse';
    const refused = await logger.logEvent('Model deployed', {}, 'FAILURE').then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(Error);
    expect((refused as Error & { code: string }).code).to.equal('SINK_FAILED');
    expect((refused as Error).message).to.include('schema mismatch');
    await logger.close();
  });

  it('acknowledged delivery gives up waiting after timeoutMs (the event is still delivered later) and rejects for a sink it does not have', async () => {
    const dir = tempDir();
    let up = false;
    const sink = new ScriptedSink({ name: 'siem', delivery: fast }, () => (up ? { code: 'ok' } : retryable('down')));
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [sink], delivery: { acknowledged: { sinks: ['siem'], actions: ['deploy'], timeoutMs: 100 } } });
    const late = await logger.logEvent('deploy').then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(late!.message).to.match(/not confirmed within 100 ms/);
    up = true;
    await logger.flush({ timeoutMs: 10_000 });
    expect(sink.delivered.map((e) => e.action_type)).to.deep.equal(['deploy']);
    await logger.close();

    const wrong = new AuditLogger({ rootLogDir: tempDir(), format: 'jsonl', sinks: [new ScriptedSink({ name: 'other', delivery: fast })], delivery: { acknowledged: { sinks: ['siem'] } } });
    const refused = await wrong.logEvent('x').then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(refused!.message).to.include('siem').and.include('does not have');
    await wrong.close();
  });

  it('emits delivered with the lag left, and reports per-sink figures in stats()', async () => {
    const dir = tempDir();
    const sink = new ScriptedSink({ name: 'remote', delivery: { ...fast, maxBatchSize: 4 } });
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [sink] });
    const delivered: AuditBusEvents['delivered'][] = [];
    logger.on('delivered', (d) => delivered.push(d));
    for (let i = 0; i < 10; i++) await logger.logEvent('step', { i });
    await logger.flush({ timeoutMs: 10_000 });
    await logger.close();
    expect(delivered.map((d) => d.count)).to.deep.equal([4, 4, 2]);
    expect(delivered.map((d) => [d.lastSeq, d.lag])).to.deep.equal([
      [4, 6],
      [8, 2],
      [10, 0],
    ]);
    expect(logger.stats().remote).to.deep.include({ delivered: 10, retried: 0, failed: 0, deadLettered: 0, dropped: 0, lag: 0, inFlight: 0, state: 'closed', lastError: null });
    expect(logger.stats().remote!.cursor).to.include({ file: 'audit_log.jsonl', seq: 10 });
  });

  it('keeps the backlog in the journal while a sink is down: one batch in memory, retried, the rest read later', async () => {
    const dir = tempDir();
    let up = false;
    const sink = new ScriptedSink({ name: 'remote', delivery: { ...fast, maxBatchSize: 100 } }, () => (up ? { code: 'ok' } : retryable('down')));
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never', sinks: [sink] });
    for (let i = 0; i < 5000; i++) await logger.logEvent('step', { i });
    await logger.flush({ timeoutMs: 100 });
    const stats = logger.stats().remote!;
    expect(stats).to.include({ inFlight: 1, lag: 5000, delivered: 0 });
    expect(new Set(sink.calls.map((batch) => batch[0]!.seq))).to.deep.equal(new Set([1])); // the same first batch, retried
    up = true;
    await logger.flush({ timeoutMs: 10_000 });
    await logger.close();
    expect(sink.delivered.map((e) => e.seq)).to.deep.equal([...Array(5000).keys()].map((k) => k + 1));
    expect(Math.max(...sink.calls.map((b) => b.length))).to.equal(100);
  });

  it('ships MemoryBatchSink, a scriptable test double of remote sinks', async () => {
    const sink = new MemoryBatchSink({ delivery: fast, answer: (batch, call) => (call === 1 ? retryable('cold start') : { code: 'ok', rejected: batch.flatMap((e, index) => (e.action_type === 'bad' ? [{ index, reason: 'no' }] : [])) }) });
    const logger = new AuditLogger({ rootLogDir: tempDir(), format: 'jsonl', sinks: [sink] });
    await logger.logEvent('good');
    await logger.logEvent('bad');
    await logger.close();
    expect(sink.batches).to.have.length(2);
    expect(sink.events.map((e) => e.action_type)).to.deep.equal(['good']);
    expect(logger.stats()['memory-batch']).to.include({ delivered: 1, deadLettered: 1, retried: 1 });
  });
});
