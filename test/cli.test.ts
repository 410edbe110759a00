// The `auditrail` binary in a child process, against logs written by a real AuditLogger in every format.
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, pipelineStatuses, readEvents, type AuditEvent, type JsonArrayOrder, type LogFormat } from '@auditrail/core';
import { expectOneLineError, jsonLines, runCli } from '../packages/cli/test/helpers/run-cli';
import { tempDir } from './helpers/tmp';

/** Writes the same six events, covering every kind of status, quoting and Unicode, and returns them as logEvent resolved them. */
async function writeFixture(dir: string, format: Exclude<LogFormat, 'none'>, order?: JsonArrayOrder): Promise<AuditEvent[]> {
  const logger = new AuditLogger({ rootLogDir: dir, format, statuses: pipelineStatuses.extend('CRITICAL'), experimentName: 'cli-test', ...(order ? { order } : {}) });
  const events = [
    await logger.logEvent('Data Ingestion started', { file: 'dataset.csv' }),
    await logger.logEvent({ action: 'hp_change', details: { changed_params: { learning_rate: { before: 0.01, after: 0.001 } } }, actor: 'alice' }),
    await logger.logEvent('Drift detected', { feature: 'user_age', drift_score: 0.85 }, 'WARNING'),
    await logger.logEvent({ action: 'Model training failed', status: 'FAILURE', details: { note: 'line one\nline "two", ünïcödé ✓ 日本' }, error: 'Out of memory' }),
    await logger.logEvent({ action: 'tag_add', details: { tag_name: 'defect', samples_affected: 2, sample_ids: ['s1', 's2'] }, actor: '=HYPERLINK("http://evil.example")' }),
    await logger.logEvent('Disk full', { free_bytes: 0 }, 'CRITICAL'),
  ];
  await logger.close();
  return events;
}

async function collect(target: string): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for await (const event of readEvents(target)) events.push(event);
  return events;
}

const ids = (events: readonly { id: string }[]): string[] => events.map((e) => e.id);
const shownIds = (run: { stdout: string }): string[] => ids(jsonLines<AuditEvent>(run.stdout));

const LAYOUTS: { name: string; format: Exclude<LogFormat, 'none'>; order?: JsonArrayOrder }[] = [
  { name: 'jsonl', format: 'jsonl' },
  { name: 'json', format: 'json' },
  { name: 'json newest-first', format: 'json', order: 'newest-first' },
  { name: 'csv', format: 'csv' },
];

describe('auditrail CLI (real binary)', function () {
  for (const layout of LAYOUTS) {
    describe(`on a ${layout.name} log`, () => {
      let dir: string;
      let events: AuditEvent[];

      before(async () => {
        dir = tempDir('auditrail-cli-');
        events = await writeFixture(dir, layout.format, layout.order);
      });

      it('summary prints the counts, readable and as JSON', async () => {
        const [readable, json] = await Promise.all([runCli(['summary', dir]), runCli(['summary', dir, '--json'])]);
        expect(readable.code, readable.stderr).to.equal(0);
        expect(readable.stdout).to.include('Total events: 6').and.include(`(${layout.format})`).and.include('Time range:');
        expect(readable.stdout).to.match(/^ {2}Disk full\s+1$/m);
        expect(JSON.parse(json.stdout)).to.deep.equal({
          total_events: 6,
          by_action_type: { 'Data Ingestion started': 1, hp_change: 1, 'Drift detected': 1, 'Model training failed': 1, tag_add: 1, 'Disk full': 1 },
          by_status: { INFO: 3, WARNING: 1, FAILURE: 1, CRITICAL: 1 },
        });
      });

      it('show prints every event oldest first: JSON lines exactly as recorded, or one readable line each', async () => {
        const [json, readable] = await Promise.all([runCli(['show', dir, '--json']), runCli(['show', dir])]);
        expect(json.code, json.stderr).to.equal(0);
        expect(json.stderr).to.equal('');
        expect(jsonLines<AuditEvent>(json.stdout)).to.deep.equal(events);
        expect(readable.code, readable.stderr).to.equal(0);
        const lines = readable.stdout.trimEnd().split('\n');
        expect(lines).to.have.length(6);
        expect(lines[0]).to.equal(`${events[0]!.timestamp} #1 INFO    Data Ingestion started {"file":"dataset.csv"}`);
        expect(lines[3]).to.include('#4 FAILURE Model training failed').and.include('error="Out of memory"').and.include('line one\\nline');
        expect(lines[4]).to.include('actor==HYPERLINK');
        expect(readable.stdout).not.to.include('\x1b[');
      });

      it('show filters by action, status (any case) and time window', async () => {
        const [actions, statuses, window] = await Promise.all([
          runCli(['show', dir, '--json', '--action', 'hp_change,tag_add']),
          runCli(['show', dir, '--json', '--status', 'failure', '-s', 'Critical']),
          runCli(['show', dir, '--json', '--since', events[2]!.timestamp, '--until', events[4]!.timestamp]),
        ]);
        expect(shownIds(actions)).to.deep.equal(ids([events[1]!, events[4]!]));
        expect(shownIds(statuses)).to.deep.equal(ids([events[3]!, events[5]!]));
        expect(shownIds(window), 'both ends included').to.deep.equal(ids(events.slice(2, 5)));
      });

      it('show --limit keeps the oldest, and with --newest-first the newest, newest first', async () => {
        const [oldest, newest, all] = await Promise.all([
          runCli(['show', dir, '--json', '--limit', '2']),
          runCli(['show', dir, '--json', '-n', '2', '--newest-first']),
          runCli(['show', dir, '--json', '--newest-first']),
        ]);
        expect(shownIds(oldest)).to.deep.equal(ids(events.slice(0, 2)));
        expect(shownIds(newest)).to.deep.equal(ids([events[5]!, events[4]!]));
        expect(shownIds(all)).to.deep.equal(ids([...events].reverse()));
      });

      it('export --to jsonl, json and csv writes files the reader reads back event for event', async () => {
        const work = tempDir('auditrail-export-');
        const targets = ['jsonl', 'json', 'csv'] as const;
        const runs = await Promise.all(targets.map((to) => runCli(['export', dir, '--to', to, '--out', join(work, `exported.${to}`)])));
        for (const [i, to] of targets.entries()) {
          const out = join(work, `exported.${to}`);
          expect(runs[i]!.code, runs[i]!.stderr).to.equal(0);
          expect(runs[i]!.stdout).to.equal('');
          expect(runs[i]!.stderr).to.equal(`Exported 6 events from ${join(dir, `audit_log.${layout.format}`)} (${layout.format}) to ${out} (${to})\n`);
          expect(await collect(out), to).to.deep.equal(events);
        }
        const shown = await runCli(['show', join(work, 'exported.csv'), '--json']);
        expect(jsonLines<AuditEvent>(shown.stdout)).to.deep.equal(events);
      });

      it('export applies the selection options and writes to stdout with --out -', async () => {
        const run = await runCli(['export', dir, '--to', 'jsonl', '--out', '-', '--status', 'FAILURE,CRITICAL', '--newest-first']);
        expect(run.code, run.stderr).to.equal(0);
        expect(shownIds(run)).to.deep.equal(ids([events[5]!, events[3]!]));
      });
    });
  }

  it('takes --action repeated or as a comma list, relative times, and matches nothing without failing', async () => {
    const dir = tempDir('auditrail-cli-');
    const events = await writeFixture(dir, 'jsonl');
    const [comma, repeated, none, recent, future, summary] = await Promise.all([
      runCli(['show', dir, '--json', '--action', 'hp_change,Disk full']),
      runCli(['show', dir, '--json', '-a', 'hp_change', '--action', 'Disk full']),
      runCli(['show', dir, '--action', 'no_such_action']),
      runCli(['show', dir, '--json', '--since', '1h', '--until', 'now']),
      runCli(['show', dir, '--json', '--since', '2999-01-01']),
      runCli(['summary', dir, '--json', '--status', 'info', '--since', '1d']),
    ]);
    expect(shownIds(comma)).to.deep.equal(ids([events[1]!, events[5]!]));
    expect(repeated.stdout).to.equal(comma.stdout);
    expect([none.code, none.stdout]).to.deep.equal([0, '']);
    expect(shownIds(recent)).to.deep.equal(ids(events));
    expect([future.code, future.stdout]).to.deep.equal([0, '']);
    expect(JSON.parse(summary.stdout)).to.include({ total_events: 3 });
  });

  it("reads the first seed's zoneless timestamps as UTC to the microsecond, whatever the reader's TZ", async () => {
    const dir = tempDir();
    // As the first seed writes it: newest first, datetime.now().isoformat(), no zone.
    const seed = [
      { timestamp: '2026-05-27T14:30:03.000001', action_type: 'tag_add', status: 'success', details: { tag_name: 'defect' }, error: null },
      { timestamp: '2026-05-27T14:30:01.123456', action_type: 'hp_change', status: 'success', details: {}, error: null },
    ];
    writeFileSync(join(dir, 'audit_log.json'), JSON.stringify(seed, null, 2));
    const env = { TZ: 'America/New_York' };
    const [summary, since] = await Promise.all([
      runCli(['summary', dir], { env }),
      runCli(['show', dir, '--json', '--since', '2026-05-27T14:30:02Z'], { env }),
    ]);
    expect(summary.code, summary.stderr).to.equal(0);
    expect(summary.stdout).to.include('Time range:   2026-05-27T14:30:01.123456Z .. 2026-05-27T14:30:03.000001Z');
    expect(since.code, since.stderr).to.equal(0);
    expect(jsonLines<AuditEvent>(since.stdout).map((e) => e.action_type)).to.deep.equal(['tag_add']);
  });

  it('export through CSV and back gives the same JSONL bytes, neutralising formulas on the way', async () => {
    const dir = tempDir('auditrail-cli-');
    await writeFixture(dir, 'json');
    const work = tempDir('auditrail-export-');
    const [first, csv, second] = ['first.jsonl', 'via.csv', 'second.jsonl'].map((name) => join(work, name)) as [string, string, string];
    expect((await runCli(['export', dir, '--out', first])).code).to.equal(0);
    expect((await runCli(['export', first, '--out', csv])).code).to.equal(0);
    expect((await runCli(['export', csv, '--out', second])).code).to.equal(0);
    expect(readFileSync(second, 'utf8')).to.equal(readFileSync(first, 'utf8'));
    // A spreadsheet would run the actor cell as a formula: the CSV holds it neutralised, the reader restores it.
    expect(readFileSync(csv, 'utf8')).to.include(`'=HYPERLINK(""http://evil.example"")`);
  });

  it('reads a rotated JSONL journal whole: its closed segments in order, then the live file', async () => {
    const dir = tempDir('auditrail-cli-');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', rotation: { maxBytes: 2000 } });
    const events: AuditEvent[] = [];
    for (let i = 0; i < 30; i++) events.push(await logger.logEvent('step', { i }));
    await logger.close();
    expect(readdirSync(dir).filter((name) => /^audit_log\.\d{8}T.*\.jsonl$/.test(name)).length).to.be.greaterThan(1);
    const out = join(tempDir('auditrail-export-'), 'whole.jsonl');
    const [summary, readable, shown, newest, exported] = await Promise.all([
      runCli(['summary', dir, '--json']),
      runCli(['summary', dir]),
      runCli(['show', dir, '--json']),
      runCli(['show', dir, '--json', '-n', '3', '--newest-first']),
      runCli(['export', dir, '--out', out]),
    ]);
    expect(JSON.parse(summary.stdout)).to.include({ total_events: 30 });
    expect(readable.stdout).to.match(/\(jsonl, after \d+ closed segments\)/);
    expect(jsonLines<AuditEvent>(shown.stdout)).to.deep.equal(events);
    expect(shownIds(newest)).to.deep.equal(ids(events.slice(-3).reverse()));
    expect(exported.code, exported.stderr).to.equal(0);
    expect(await collect(out)).to.deep.equal(events);
  });

  describe('export safety', () => {
    let dir: string;
    before(async () => {
      dir = tempDir('auditrail-cli-');
      await writeFixture(dir, 'jsonl');
    });

    it('refuses to replace an existing file without --force, and replaces it with --force', async () => {
      const out = join(tempDir('auditrail-export-'), 'taken.json');
      writeFileSync(out, 'precious');
      const refused = await runCli(['export', dir, '--out', out]);
      expectOneLineError(refused, 2, /already exists; add --force/);
      expect(readFileSync(out, 'utf8')).to.equal('precious');
      const forced = await runCli(['export', dir, '--out', out, '--force']);
      expect(forced.code, forced.stderr).to.equal(0);
      expect(await collect(out)).to.have.length(6);
    });

    it("refuses to export a log onto itself or onto any log file of a logger's directory, even with --force", async () => {
      const [itself, sibling] = await Promise.all([
        runCli(['export', dir, '--out', join(dir, 'audit_log.jsonl'), '--force']),
        runCli(['export', dir, '--out', join(dir, 'audit_log.csv'), '--force']),
      ]);
      expectOneLineError(itself, 2, /is the log being exported/);
      expectOneLineError(sibling, 2, /audit_log\.csv is a file of the log in .*, which a logger may be writing/);
      expect(readdirSync(dir).filter((name) => !name.startsWith('.'))).to.deep.equal(['audit_log.id', 'audit_log.jsonl']);
      expect(await collect(dir)).to.have.length(6);
    });

    it('refuses a --to that disagrees with the --out extension, and an --out it cannot name a format for', async () => {
      expectOneLineError(await runCli(['export', dir, '--to', 'csv', '--out', join(tempDir(), 'x.json')]), 2, /does not match/);
      expectOneLineError(await runCli(['export', dir, '--out', join(tempDir(), 'x.txt')]), 2, /give --to csv, json or jsonl/);
    });

    it('fails in one line when the destination directory is missing, or the destination is a directory', async () => {
      const [missing, directory] = await Promise.all([
        runCli(['export', dir, '--out', join(tempDir(), 'missing', 'x.csv')]),
        runCli(['export', dir, '--to', 'csv', '--out', tempDir(), '--force']),
      ]);
      expectOneLineError(missing, 1, /Audit write to .*x\.csv failed: ENOENT/);
      expectOneLineError(directory, 2, /is a directory; give a file name/);
    });

    it('writes the exported file readable by its owner only', async () => {
      const out = join(tempDir('auditrail-export-'), 'private.csv');
      expect((await runCli(['export', dir, '--out', out])).code).to.equal(0);
      expect(statSync(out).mode & 0o777).to.equal(0o600);
    });
  });
});

