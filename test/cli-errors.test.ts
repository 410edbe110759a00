// The `auditrail` binary on bad input and in awkward places: missing and malformed logs, bad options, the seeds' own files, closed pipes, colour.
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AuditLogger, type AuditEvent } from '@auditrail/core';
import { CLI_BIN, expectOneLineError, jsonLines, runCli } from '../packages/cli/test/helpers/run-cli';
import { tempDir } from './helpers/tmp';

// The first seed's JSON example as its Python tool writes it: pretty-printed, newest first, no id or seq.
const SEED_EVENTS = [
  { timestamp: '2026-05-27T14:30:00.123456Z', action_type: 'hp_change', status: 'success', details: { changed_params: { learning_rate: 0.001, batch_size: 32 } }, error: null },
  {
    timestamp: '2026-05-27T14:30:05.456789Z',
    action_type: 'tag_add',
    status: 'success',
    details: { tag_name: 'defect', samples_affected: 5, sample_ids: ['s1', 's2', 's3', 's4', 's5'], origins: ['train', 'train', 'val', 'val', 'test'] },
    error: null,
  },
  { timestamp: '2026-05-27T14:30:10.789012Z', action_type: 'query_execute', status: 'failed', details: { query_type: 'natural_language', query_text: 'invalid syntax here' }, error: 'Invalid query syntax: unexpected token' },
];

// The first seed's CSV example, byte for byte.
const SEED_CSV = `timestamp,action_type,status,details,error
2026-05-27T14:30:00.123456Z,hp_change,success,"{""changed_params"": {""learning_rate"": 0.001, ""batch_size"": 32}}",
2026-05-27T14:30:05.456789Z,tag_add,success,"{""tag_name"": ""defect"", ""samples_affected"": 5, ""sample_ids"": [""s1"", ""s2""]}",
2026-05-27T14:30:10.789012Z,query_execute,failed,"{""query_type"": ""natural_language""}","Invalid query syntax: unexpected token"
`;

describe('auditrail CLI on bad input (real binary)', () => {
  let dir: string;
  let logDir: string;

  before(async () => {
    dir = tempDir('auditrail-cli-bad-');
    logDir = join(dir, 'log');
    const logger = new AuditLogger({ rootLogDir: logDir, format: 'jsonl' });
    await logger.logEvent('Model Training Started');
    await logger.close();
    mkdirSync(join(dir, 'empty'));
    writeFileSync(join(dir, 'torn.jsonl'), '{"id":"a","seq":1,"timestamp":"2026-05-27T14:30:00.000000Z","action_type":"x","status":"INFO"}\n{"id":"b","seq":2,"times\n');
    const event = '{"timestamp":"2026-05-27T14:30:00.000000Z","action_type":"x","status":"INFO"}';
    writeFileSync(join(dir, 'garbled.json'), `[\n${event},\n{"timestamp":"2026-05-27T14:3,\n${event}\n]\n`);
    writeFileSync(join(dir, 'object.json'), '{"events": []}\n');
    writeFileSync(join(dir, 'not-events.jsonl'), '{"hello":"world"}\n');
    writeFileSync(join(dir, 'numbers.jsonl'), '42\n');
    writeFileSync(join(dir, 'bad-time.jsonl'), '{"timestamp":"yesterday-ish","action_type":"x","status":"INFO"}\n');
    writeFileSync(join(dir, 'other.csv'), 'name,age\nalice,30\n');
    writeFileSync(join(dir, 'ragged.csv'), 'timestamp,action_type,status,details,error\n2026-05-27T14:30:00.123456Z,x,INFO,"{}",,extra,cells\n');
    writeFileSync(join(dir, 'bad-details.csv'), 'timestamp,action_type,status,details,error\n2026-05-27T14:30:00.123456Z,x,INFO,{not json,\n');
    writeFileSync(join(dir, 'notes.txt'), 'hello\n');
  });

  it('a missing or malformed log gives one line on stderr and exit code 1, for every command', async () => {
    const cases: [string, RegExp][] = [
      [join(dir, 'nope'), /No audit log at .*nope: no such file or directory/],
      [join(dir, 'empty'), /No audit log in .*empty: expected audit_log\.json/],
      [join(dir, 'torn.jsonl'), /torn\.jsonl:2 is not valid JSON/],
      [join(dir, 'garbled.json'), /garbled\.json is not valid JSON/],
      [join(dir, 'object.json'), /object\.json holds JSON that is not an array/],
      [join(dir, 'not-events.jsonl'), /not-events\.jsonl: event 1 is not an audit event: "timestamp" is missing/],
      [join(dir, 'numbers.jsonl'), /numbers\.jsonl: event 1 is not an audit event: expected an object, got 42/],
      [join(dir, 'bad-time.jsonl'), /bad-time\.jsonl: event 1 has an invalid timestamp "yesterday-ish"/],
      [join(dir, 'other.csv'), /other\.csv is not an audit log CSV: its header lacks timestamp, action_type, status, details/],
      [join(dir, 'ragged.csv'), /ragged\.csv is not valid CSV/],
      [join(dir, 'bad-details.csv'), /bad-details\.csv: record 2 is malformed/],
      [join(dir, 'notes.txt'), /Cannot tell the format of .*notes\.txt/],
    ];
    // Every case through show; summary and export share its reading, so a few cases each suffice.
    const runs: [string[], RegExp][] = [
      ...cases.map(([target, message]): [string[], RegExp] => [['show', target], message]),
      ...[0, 3, 8].map((i): [string[], RegExp] => [['summary', cases[i]![0]], cases[i]![1]]),
      ...[2, 5, 9].map((i): [string[], RegExp] => [['export', cases[i]![0], '--to', 'jsonl', '--out', '-'], cases[i]![1]]),
    ];
    const results = await Promise.all(runs.map(([args]) => runCli(args)));
    results.forEach((run, i) => expectOneLineError(run, 1, runs[i]![1], runs[i]![0].join(' ')));
  });

  it('bad option values and usage mistakes give one line and exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['show', logDir, '--since', 'garbage'], /option '--since <time>' argument 'garbage' is invalid\. Expected an ISO 8601 time/],
      [['show', logDir, '--until', '2026-02-31'], /argument '2026-02-31' is invalid/],
      [['show', logDir, '--since', '2026-05-27T25:00:00Z'], /argument '2026-05-27T25:00:00Z' is invalid/],
      [['show', logDir, '--since', '2026-06-01', '--until', '2026-05-01'], /"--since": is later than --until/],
      [['show', logDir, '--limit', '0'], /'-n, --limit <count>' argument '0' is invalid\. Expected a whole number of at least 1/],
      [['show', logDir, '--limit', 'ten'], /argument 'ten' is invalid/],
      [['show', logDir, '--limit', '-3'], /argument '-3' is invalid/],
      [['show', logDir, '--action', 'a,,b'], /"a,,b" has an empty entry/],
      [['show', logDir, '--bogus'], /unknown option '--bogus'/],
      [['show'], /missing required argument 'target'/],
      [['show', logDir, 'extra'], /too many arguments/],
      [['sho', logDir], /unknown command 'sho' \(Did you mean show\?\)/],
      [['export', logDir, '--to', 'xml', '--out', join(dir, 'x.xml')], /'-t, --to <format>' argument 'xml' is invalid\. Expected one of csv, json, jsonl/],
      [['export', logDir, '--to', 'csv'], /required option '-o, --out <file>' not specified/],
      [['summary', logDir, '--limit', '3'], /unknown option '--limit'/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    runs.forEach((run, i) => expectOneLineError(run, 2, cases[i]![1], cases[i]![0].join(' ')));
  });

  it('collect from a stream that does not exist yet says so in one line and exits 1 (it hung with the connection open)', async () => {
    const stream = `NOSUCH_${process.pid}_${Date.now()}`;
    const run = await runCli(['collect', '--to', tempDir(), '--stream', stream], { timeoutMs: 15_000 });
    expectOneLineError(run, 1, new RegExp(`stream "${stream}" does not exist yet: a NatsSink creates it`));
  });

  it('--help and --version exit 0; no command at all is a usage error', async () => {
    const [help, showHelp, version, nothing] = await Promise.all([runCli(['--help']), runCli(['show', '--help']), runCli(['--version']), runCli([])]);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include('summary').and.include('show').and.include('export').and.include('Exit codes');
    expect(showHelp.code).to.equal(0);
    expect(showHelp.stdout).to.include('--newest-first').and.include('--since <time>');
    expect([version.code, version.stdout]).to.deep.equal([0, '0.1.0\n']);
    expect(nothing.code).to.equal(2);
    expect(nothing.stderr).to.include('Usage: auditrail');
  });

  it('runs through the committed launcher, executable as the package bin (npx auditrail)', async () => {
    const launcher = join(__dirname, '..', 'packages', 'cli', 'bin', 'auditrail.js');
    const { stdout } = await promisify(execFile)(launcher, ['--version'], { timeout: 30_000 });
    expect(stdout).to.equal('0.1.0\n');
    const bin = (JSON.parse(readFileSync(join(__dirname, '..', 'packages', 'cli', 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
    expect(bin).to.deep.equal({ auditrail: 'bin/auditrail.js' });
  });

  it("reads the first seed's own files: a pretty-printed newest-first JSON array and the five-column CSV", async () => {
    const json = join(dir, 'seed.json');
    const csv = join(dir, 'seed.csv');
    writeFileSync(json, JSON.stringify([...SEED_EVENTS].reverse(), null, 2));
    writeFileSync(csv, SEED_CSV);
    const [shownJson, shownCsv, summaryJson, summaryCsv, failed] = await Promise.all([
      runCli(['show', json, '--json']),
      runCli(['show', csv, '--json']),
      runCli(['summary', json, '--json']),
      runCli(['summary', csv, '--json']),
      runCli(['show', csv, '--status', 'failed']),
    ]);
    expect(jsonLines<AuditEvent>(shownJson.stdout).map((e) => e.action_type)).to.deep.equal(['hp_change', 'tag_add', 'query_execute']);
    expect(jsonLines<AuditEvent>(shownJson.stdout)[2]).to.deep.equal(SEED_EVENTS[2]);
    const fromCsv = jsonLines<AuditEvent>(shownCsv.stdout);
    expect(fromCsv.map((e) => [e.action_type, e.status, e.error])).to.deep.equal(SEED_EVENTS.map((e) => [e.action_type, e.status, e.error]));
    expect(fromCsv[0]!.details).to.deep.equal(SEED_EVENTS[0]!.details);
    const expected = { total_events: 3, by_action_type: { hp_change: 1, tag_add: 1, query_execute: 1 }, by_status: { success: 2, failed: 1 } };
    expect(JSON.parse(summaryJson.stdout)).to.deep.equal(expected);
    expect(JSON.parse(summaryCsv.stdout)).to.deep.equal(expected);
    expect(failed.stdout).to.equal('2026-05-27T14:30:10.789012Z failed  query_execute {"query_type":"natural_language"} error="Invalid query syntax: unexpected token"\n');
  });

  it('colours statuses only when asked (TTY or FORCE_COLOR), and escapes what could steer a terminal', async () => {
    const colorDir = join(dir, 'color');
    const logger = new AuditLogger({ rootLogDir: colorDir, format: 'jsonl' });
    await logger.logEvent({ action: 'evil\u202Etxt.exe', status: 'FAILURE', actor: 'mallory\x1b]0;pwned\x07\x1b[2J' });
    await logger.close();
    const [plain, forced, noColor] = await Promise.all([
      runCli(['show', colorDir]),
      runCli(['show', colorDir], { env: { FORCE_COLOR: '1' } }),
      runCli(['show', colorDir], { env: { FORCE_COLOR: '0' } }),
    ]);
    expect(plain.stdout).to.include('FAILURE evil\\u202etxt.exe actor=mallory\\u001b]0;pwned\\u0007\\u001b[2J');
    expect(plain.stdout).not.to.match(/[\x1b\x07\u202e]/);
    expect(forced.stdout).to.include('\x1b[31mFAILURE\x1b[0m');
    expect(forced.stdout.replace(/\x1b\[[0-9;]*m/g, '')).to.equal(plain.stdout);
    expect(noColor.stdout).to.equal(plain.stdout);
  });

  it('stops quietly with exit code 0 when the reader of its output goes away', async () => {
    const bigDir = join(dir, 'big');
    const logger = new AuditLogger({ rootLogDir: bigDir, format: 'jsonl', fsync: 'never' });
    for (let i = 0; i < 20_000; i++) await logger.logEvent('tag_add', { tag_name: 'defect', samples_affected: 1, sample_ids: [`s${i}`] });
    await logger.close();
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI_BIN, 'show', bigDir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout.once('data', () => child.stdout.destroy()); // like `| head -1`
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stderr });
      });
    });
    expect(result).to.deep.equal({ code: 0, signal: null, stderr: '' });
  });
});
