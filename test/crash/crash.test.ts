// A child logging in a loop into all three formats is SIGKILLed at random moments, 20 times, restarting each
// time on the same directory: after each kill every file reads back and holds every event whose logEvent had
// resolved; the restart repairs any torn tail, and at the end every file parses strictly and the chain is whole.
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { computeHash, readEvents, type AuditEvent } from '@auditrail/core';
import { tempDir } from '../helpers/tmp';
import { spawnTs } from '../helpers/node';
import { readCsv, readJsonArray, readJsonl } from '../../packages/core/test/helpers';

const WRITER = resolve(__dirname, '../fixtures/crash-writer.ts');
const KILLS = 20;

/** Starts the writer, kills it `delayMs` after it is ready, and returns the seqs it reported as resolved. */
function runAndKill(dir: string, run: number, delayMs: number, order = 'oldest-first', formats?: string): Promise<number[]> {
  return new Promise((ok, fail) => {
    const child = spawnTs(WRITER, [dir, String(run), order, ...(formats ? [formats] : [])]);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      const first = out === '';
      out += d.toString();
      if (first && out.startsWith('ready\n')) setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return fail(new Error(`writer ended with ${code ?? signal} before the kill: ${err}`));
      // Only whole lines: a report cut by the kill was not complete.
      const lines = out.split('\n').slice(1, -1);
      ok(lines.map(Number));
    });
  });
}

/** Every file parsed strictly, as a user's tool would. */
function readAll(dir: string): Record<'jsonl' | 'json' | 'csv', AuditEvent[]> {
  const jsonlText = readFileSync(join(dir, 'audit_log.jsonl'), 'utf8');
  expect(jsonlText === '' || jsonlText.endsWith('\n'), 'audit_log.jsonl ends with a newline').to.equal(true);
  return { jsonl: readJsonl(dir), json: readJsonArray(dir), csv: readCsv(dir) };
}

/** Whether a file passes its strict parser (JSON.parse, every line, csv-parse). */
function parsesStrictly(dir: string, format: 'jsonl' | 'json' | 'csv'): boolean {
  try {
    if (format === 'jsonl') return readFileSync(join(dir, 'audit_log.jsonl'), 'utf8').endsWith('\n') && readJsonl(dir).length >= 0;
    return (format === 'json' ? readJsonArray(dir) : readCsv(dir)).length >= 0;
  } catch {
    return false;
  }
}

/** Every file as the library's reader sees it: it skips only an unterminated last record (a write cut short). */
async function readTolerant(dir: string): Promise<Record<'jsonl' | 'json' | 'csv', AuditEvent[]>> {
  const out = { jsonl: [] as AuditEvent[], json: [] as AuditEvent[], csv: [] as AuditEvent[] };
  for (const format of ['jsonl', 'json', 'csv'] as const) {
    for await (const event of readEvents({ path: join(dir, `audit_log.${format}`), format })) out[format].push(event);
  }
  return out;
}

describe(`crash: SIGKILL at random moments, ${KILLS} times`, function () {
  this.timeout(180_000);

  // A killed write(2) to a regular file is cut short only at a page boundary (the kernel checks for a fatal
  // signal between pages), so now and then a kill leaves the JSONL or CSV record being written torn. Such a
  // record was never acknowledged; readers skip it, and the next writer moves it to .torn (see
  // docs/local-files.md). The JSON array writes each event inside one page, so it parses after every kill.
  it('leaves every resolved event readable in every file after each kill, the JSON array parsing, and every file whole after the restart', async () => {
    const dir = tempDir();
    const resolved: number[] = [];
    let tornTails = 0;
    for (let run = 0; run < KILLS; run++) {
      const delay = 30 + Math.floor(Math.random() * 250);
      const seqs = await runAndKill(dir, run, delay);
      resolved.push(...seqs);
      const files = await readTolerant(dir);
      for (const [format, events] of Object.entries(files)) {
        const held = new Set(events.map((e) => e.seq));
        const missing = resolved.filter((s) => !held.has(s));
        expect(missing, `${format} after kill ${run + 1} (delay ${delay} ms) misses resolved seqs`).to.deep.equal([]);
        if (format === 'json') expect(parsesStrictly(dir, 'json'), `audit_log.json parses after kill ${run + 1}`).to.equal(true);
        else if (!parsesStrictly(dir, format as 'jsonl' | 'csv')) tornTails++;
      }
    }
    expect(resolved.length).to.be.greaterThan(KILLS);
    expect(tornTails, 'kills that left a torn tail').to.be.lessThan(KILLS);
    // A last clean run repairs torn tails and brings every file to the same, gap-free, chained log.
    const { AuditLogger } = await import('@auditrail/core');
    const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'json', 'csv'] });
    const last = await logger.logEvent('after the crashes');
    await logger.close();
    const files = readAll(dir);
    for (const [format, events] of Object.entries(files)) {
      expect(events.map((e) => e.seq), format).to.deep.equal(Array.from({ length: last.seq }, (_, i) => i + 1));
      for (let i = 0; i < events.length; i++) {
        expect(computeHash(events[i]!), `${format} hash of seq ${i + 1}`).to.equal(events[i]!.hash);
        if (i > 0) expect(events[i]!.prev_hash, `${format} prev_hash of seq ${i + 1}`).to.equal(events[i - 1]!.hash);
      }
    }
    expect(files.json).to.deep.equal(files.jsonl);
    expect(files.csv).to.deep.equal(files.jsonl);
  });

  it('keeps an oldest-first JSON array whole through 40 more kills, its reserve regrown and large events among them', async () => {
    const dir = tempDir();
    const resolved: number[] = [];
    for (let run = 0; run < 40; run++) {
      const delay = 20 + Math.floor(Math.random() * 200);
      resolved.push(...(await runAndKill(dir, run, delay, 'oldest-first', 'json')));
      const seqs = readJsonArray(dir).map((e) => e.seq); // JSON.parse of the whole file
      expect(seqs, `after kill ${run + 1}`).to.deep.equal(Array.from({ length: seqs.length }, (_, i) => i + 1));
      const held = new Set(seqs);
      expect(resolved.filter((s) => !held.has(s)), `resolved seqs missing after kill ${run + 1}`).to.deep.equal([]);
    }
    expect(resolved.length).to.be.greaterThan(40 * 10);
    expect(readdirSync(dir).filter((name) => name.includes('.torn'))).to.deep.equal([]);
  });

  it('keeps a newest-first JSON array whole: every kill leaves the old or the new file, never a torn one', async () => {
    const dir = tempDir();
    const resolved: number[] = [];
    for (let run = 0; run < 8; run++) {
      const delay = 30 + Math.floor(Math.random() * 250);
      resolved.push(...(await runAndKill(dir, run, delay, 'newest-first')));
      const events = readJsonArray(dir); // JSON.parse of the whole file
      const seqs = events.map((e) => e.seq);
      expect(seqs, `after kill ${run + 1}`).to.deep.equal(Array.from({ length: seqs.length }, (_, i) => seqs.length - i));
      const held = new Set(seqs);
      expect(resolved.filter((s) => !held.has(s)), `resolved seqs missing after kill ${run + 1}`).to.deep.equal([]);
      for (let i = 0; i + 1 < events.length; i++) expect(events[i]!.prev_hash).to.equal(events[i + 1]!.hash);
    }
    const { AuditLogger } = await import('@auditrail/core');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'json', order: 'newest-first' });
    await logger.logEvent('after the crashes');
    await logger.close();
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).to.deep.equal([]);
  });
});
