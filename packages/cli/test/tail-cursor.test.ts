// LogCursor, the reader under `tail --follow`, on files written by hand: torn CSV records inside quoted cells,
// pretty-printed JSON arrays from other tools, and the first seed's five-column CSV.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { LogCursor, type CursorListener } from '@auditrail/cli';
import { AuditLogger, eventToCsv, type AuditEvent } from '@auditrail/core';
import { spawnTs } from '../../../test/helpers/node';
import { tempDir } from '../../../test/helpers/tmp';

function event(seq: number, extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: `00000000-0000-7000-8000-${String(seq).padStart(12, '0')}`,
    seq,
    timestamp: `2026-05-27T14:30:${String(seq).padStart(2, '0')}.000000Z`,
    action_type: 'step',
    status: 'INFO',
    details: { n: seq },
    error: null,
    actor: null,
    source: { host: 'h', pid: 1, log: 'l' },
    prev_hash: '0'.repeat(64),
    hash: String(seq).padStart(64, '0'),
    ...extra,
  };
}

/** Polls once and returns what was delivered. */
async function poll(cursor: LogCursor): Promise<{ events: AuditEvent[]; problems: string[] }> {
  const seen = { events: [] as AuditEvent[], problems: [] as string[] };
  const listener: CursorListener = { events: (batch) => seen.events.push(...batch), problem: (m) => seen.problems.push(m) };
  await cursor.poll(listener);
  return seen;
}

describe('LogCursor', function () {
  it('waits for a CSV record torn inside a quoted cell that holds a newline', async function () {
    const dir = tempDir();
    const path = join(dir, 'audit_log.csv');
    const record = eventToCsv(event(1, { status: 'FAILURE', error: 'line one\nline two, with "quotes"' }));
    writeFileSync(path, 'timestamp,action_type,status,details,error,actor,source,id,seq,prev_hash,hash\n' + record.slice(0, record.indexOf('\n') + 1));
    const cursor = new LogCursor(dir, true);
    expect((await poll(cursor)).events).to.deep.equal([]);
    appendFileSync(path, record.slice(record.indexOf('\n') + 1));
    const { events } = await poll(cursor);
    expect(events.map((e) => e.error)).to.deep.equal(['line one\nline two, with "quotes"']);
    appendFileSync(path, eventToCsv(event(2)));
    expect((await poll(cursor)).events.map((e) => e.seq)).to.deep.equal([2]);
    await cursor.close();
  });

  it('reads a pretty-printed JSON array whole, and then only the events added to it', async function () {
    const dir = tempDir();
    const path = join(dir, 'audit_log.json');
    writeFileSync(path, JSON.stringify([event(1), event(2)], null, 2));
    const cursor = new LogCursor(path, false);
    expect((await poll(cursor)).events.map((e) => e.seq)).to.deep.equal([1, 2]);
    writeFileSync(path, JSON.stringify([event(1), event(2), event(3)], null, 2));
    expect((await poll(cursor)).events.map((e) => e.seq)).to.deep.equal([3]);
    writeFileSync(path, JSON.stringify([event(1), event(2), event(3)], null, 2).slice(0, -10)); // mid-rewrite
    expect((await poll(cursor)).events).to.deep.equal([]);
    await cursor.close();
  });

  it('follows an oldest-first JSON array event by event: into its reserve, across page gaps and regrowths by rename', async function () {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'json' });
    const cursor = new LogCursor(join(dir, 'audit_log.json'), false);
    expect((await poll(cursor)).events).to.deep.equal([]);
    for (let i = 1; i <= 120; i++) {
      // 300 to 3,300 bytes, and now and then over a page (written by a copy renamed into place).
      const pad = 'p'.repeat(i % 17 === 0 ? 6000 : (i * 250) % 3000);
      await logger.logEvent('step', { i, pad });
      const { events, problems } = await poll(cursor);
      expect(problems).to.deep.equal([]);
      expect(events.map((e) => e.seq), `poll after event ${i}`).to.deep.equal([i]);
    }
    await logger.close();
    await cursor.close();
  });

  it("follows the first seed's five-column CSV, which has no id or seq", async function () {
    const dir = tempDir();
    const path = join(dir, 'audit_log.csv');
    writeFileSync(path, 'timestamp,action_type,status,details,error\n2026-05-27T14:30:00.000000,tag_add,success,"{""n"": 1}",\n');
    const cursor = new LogCursor(dir, true);
    expect((await poll(cursor)).events.map((e) => e.details)).to.deep.equal([{ n: 1 }]);
    appendFileSync(path, '2026-05-27T14:30:01.000000,tag_add,failed,"{""n"": 2}",disk full\n');
    expect((await poll(cursor)).events.map((e) => [e.details, e.error])).to.deep.equal([[{ n: 2 }, 'disk full']]);
    await cursor.close();
  });

  it('reads the last N of a JSONL file backwards, across chunk boundaries that cut characters in half', async function () {
    const dir = tempDir();
    const path = join(dir, 'audit_log.jsonl');
    const all = Array.from({ length: 300 }, (_, i) => event(i + 1, { details: { n: i + 1, text: 'é€😀'.repeat(50 + ((i * 37) % 200)) } }));
    writeFileSync(path, all.map((e) => JSON.stringify(e) + '\n').join('') + '{"torn":');
    for (const count of [0, 1, 7, 150, 300, 500]) {
      for (const accept of [() => true, (e: AuditEvent) => e.seq % 7 === 0]) {
        const cursor = new LogCursor(dir, true);
        const seen: AuditEvent[] = [];
        await cursor.start({ events: (batch) => seen.push(...batch), problem: (m) => expect.fail(m) }, { count, accept });
        expect(seen).to.deep.equal(all.filter(accept).slice(-count || all.length).slice(0, count));
        // Following goes on after the last whole line: the torn one comes once complete.
        appendFileSync(path, '');
        expect((await poll(cursor)).events).to.deep.equal([]);
        await cursor.close();
      }
    }
    const cursor = new LogCursor(dir, true);
    await cursor.start({ events: () => undefined, problem: () => undefined }, { count: 3, accept: () => true });
    writeFileSync(path, all.map((e) => JSON.stringify(e) + '\n').join('') + JSON.stringify(event(301)) + '\n');
    expect((await poll(cursor)).events.map((e) => e.seq)).to.deep.equal([301]);
    await cursor.close();
  });

  it('reads every event once, in order, while another process rotates the journal every few events', async function () {
    const dir = tempDir();
    const first = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never', rotation: { maxBytes: 1500 } });
    await first.logEvent('step', { n: 0 });
    await first.close();
    const cursor = new LogCursor(dir, true);
    const seen: number[] = [];
    const listener: CursorListener = { events: (batch) => seen.push(...batch.map((e) => (e.details as { n: number }).n)), problem: (m) => expect.fail(m) };
    await cursor.poll(listener);
    const writer = spawnTs(join(__dirname, 'fixtures', 'tail-rotating-writer.ts'), [dir, '3000'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise<number | null>((done) => writer.on('exit', done));
    let running = true;
    void exited.then(() => (running = false));
    try {
      // Poll as often as possible: the races are a rotation between two polls, and during one.
      while (running) {
        await cursor.poll(listener);
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      if (running) writer.kill('SIGKILL');
    }
    expect(await exited).to.equal(0);
    await cursor.poll(listener);
    await cursor.close();
    expect(seen.length).to.equal(3000);
    expect(seen.every((n, i) => n === i), 'in order, each once').to.equal(true);
  });

  it('reports a whole JSONL line that is not an event, and goes on', async function () {
    const dir = tempDir();
    writeFileSync(join(dir, 'audit_log.jsonl'), JSON.stringify(event(1)) + '\nnot json\n' + JSON.stringify(event(2)) + '\n');
    const cursor = new LogCursor(dir, true);
    const { events, problems } = await poll(cursor);
    expect(events.map((e) => e.seq)).to.deep.equal([1, 2]);
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/audit_log\.jsonl: not an audit event: not json/);
    await cursor.close();
  });
});
