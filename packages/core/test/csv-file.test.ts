// audit_log.csv: the first seed's header first, RFC 4180 quoting, round-trips, OWASP formula neutralisation and its restoration.
import { expect } from 'chai';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, CSV_COLUMNS, neutraliseCell, outcomeStatuses, readEvents, restoreCell, type AuditEvent } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { readCsv, readCsvRows, rejectionOf } from './helpers';

async function readBack(dir: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for await (const e of readEvents(join(dir, 'audit_log.csv'))) out.push(e);
  return out;
}

describe('CSV file', () => {
  it('starts with the first seed header, then further columns', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'csv', statuses: outcomeStatuses });
    await logger.logEvent({ action_type: 'hp_change', details: { changed_params: { learning_rate: 0.001, batch_size: 32 } } });
    await logger.close();
    const text = readFileSync(join(dir, 'audit_log.csv'), 'utf8');
    expect(text.split('\n')[0]!.startsWith('timestamp,action_type,status,details,error,')).to.equal(true);
    const rows = readCsvRows(dir);
    expect(rows[0]).to.deep.equal([...CSV_COLUMNS]);
    expect(rows[1]!.slice(1, 5)).to.deep.equal(['hp_change', 'success', '{"changed_params":{"batch_size":32,"learning_rate":0.001}}', '']);
    expect(JSON.parse(rows[1]![3]!)).to.deep.equal({ changed_params: { learning_rate: 0.001, batch_size: 32 } });
  });

  it('quotes per RFC 4180 and round-trips quotes, commas, newlines, CR and Unicode', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'csv' });
    const nasty = 'He said "hi", then\nleft\r\nagain; 日本語 🚀 café \u2028 end';
    const logged = [
      await logger.logEvent({ action: 'note, "quoted" action', details: { text: nasty, emoji: '🧪', nested: { q: '"' } }, error: nasty, actor: 'José "J" Ñ' }),
      await logger.logEvent('plain'),
    ];
    await logger.close();
    const raw = readFileSync(join(dir, 'audit_log.csv'), 'utf8');
    expect(raw).to.include('"note, ""quoted"" action"');
    expect(raw).to.include('"He said ""hi"", then\nleft\r\nagain');
    const back = await readBack(dir);
    expect(back).to.deep.equal(logged);
    expect(readCsv(dir)).to.deep.equal(logged);
  });

  it('neutralises cells a spreadsheet would run (=, +, -, @, tab, CR) and restores them on read', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'csv', statuses: pipelineWithFormulas() });
    const payloads = ['=HYPERLINK("http://evil","x")', '+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd', "'=already quoted"];
    const logged: AuditEvent[] = [];
    // Actions may not hold control characters (a clear InvalidEventError), so tab and CR go in the other text cells only.
    const actionOf = (p: string): string => (/^[\t\r]/.test(p) ? 'control' : p);
    for (const p of payloads) logged.push(await logger.logEvent({ action: actionOf(p), status: '=1+1', error: p, actor: p, details: { cell: p } }));
    await logger.close();
    const rows = readCsvRows(dir).slice(1);
    rows.forEach((row, i) => {
      for (const cell of [row[1]!, row[2]!, row[4]!, row[5]!]) expect(/^[=+\-@\t\r]/.test(cell), `row ${i}: ${JSON.stringify(cell)}`).to.equal(false);
      expect(row[4]).to.equal("'" + payloads[i]);
      expect(row[5]).to.equal("'" + payloads[i]);
      expect(row[2]).to.equal("'=1+1");
      expect(row[3]!.startsWith('{')).to.equal(true); // details are JSON: never a formula
    });
    expect(await readBack(dir)).to.deep.equal(logged);
    expect(logged.map((e) => e.error)).to.deep.equal(payloads);
  });

  it('neutraliseCell and restoreCell are inverse for any text', () => {
    for (const s of ['', 'a', "'", "''=", "'a", '=', '-', ' =x', 'x=', "'''@x", '\t', '\r\n']) {
      expect(restoreCell(neutraliseCell(s))).to.equal(s);
    }
  });

  it('repairs a torn last record (moved to .torn) and keeps appending after the header', async () => {
    const dir = tempDir();
    let logger = new AuditLogger({ rootLogDir: dir, format: 'csv' });
    await logger.logEvent('a', {}, 'WARNING');
    await logger.close();
    appendFileSync(join(dir, 'audit_log.csv'), '2026-05-27T14:30:05.456789Z,"torn\nin the mid');
    logger = new AuditLogger({ rootLogDir: dir, format: 'csv' });
    const b = await logger.logEvent('b');
    await logger.close();
    expect(b.seq).to.equal(2);
    expect((await readBack(dir)).map((e) => e.action_type)).to.deep.equal(['a', 'b']);
    expect(readFileSync(join(dir, 'audit_log.csv.torn'), 'utf8')).to.include('torn\nin the mid');
  });

  it('refuses to append to a CSV with another header, naming both', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'audit_log.csv'), 'timestamp,action_type,status,details,error\n2026-05-27T14:30:00.123456Z,hp_change,success,{},\n');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'csv' });
    const err = await rejectionOf(logger.logEvent('a'));
    await logger.close();
    expect(err.name).to.equal('AuditWriteError');
    expect(err.message).to.include('timestamp,action_type,status,details,error"').and.include('expected');
    // ... while the reader still reads the first seed's five-column file.
    const back = await readBack(dir);
    expect(back.map((e) => [e.action_type, e.status, e.error])).to.deep.equal([['hp_change', 'success', null]]);
  });
});

function pipelineWithFormulas(): ReturnType<typeof outcomeStatuses.extend> {
  return outcomeStatuses.extend('=1+1');
}
