// Progress bars of long runs (report, export): drawn on a terminal, never in a pipe or a CI log.
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { expect } from 'chai';
import { AuditLogger } from '@auditrail/core';
import { countRecords, progressAllowed, startProgress } from '@auditrail/cli';
import { tempDir } from '../../../test/helpers/tmp';
import { CLI_BIN, runCli } from './helpers/run-cli';

const EVENTS = 3000;

/** A writable that says it is a terminal, and keeps what was drawn. */
function fakeTerminal(): PassThrough & { isTTY: boolean; columns: number; text(): string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120, text: (): string => '' });
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  stream.text = () => text;
  return stream;
}

/** Runs the CLI inside a pseudo-terminal (util-linux `script`), so stdout and stderr are TTYs; resolves with all it drew. */
function runInTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, CLI_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function withoutCi(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', NO_COLOR: '1', AUDITRAIL_PROGRESS_DELAY_MS: '0', ...extra };
  for (const name of ['CI', 'CONTINUOUS_INTEGRATION', 'BUILD_NUMBER', 'RUN_ID', 'GITHUB_ACTIONS', 'GITLAB_CI', 'BUILDKITE', 'TF_BUILD', 'JENKINS_URL']) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

describe('progress bars of long runs', function () {
  let log: string;

  before(async function () {
    log = tempDir();
    const logger = new AuditLogger({ rootLogDir: log, format: ['jsonl', 'json', 'csv'], fsync: 'never' });
    for (let i = 0; i < EVENTS; i++) await logger.logEvent('step', { i });
    await logger.close();
  });

  it('are allowed on a terminal only, and not when a CI variable is set or TERM is dumb', function () {
    expect(progressAllowed({ isTTY: true }, {})).to.equal(true);
    expect(progressAllowed({ isTTY: false }, {})).to.equal(false);
    expect(progressAllowed({}, {})).to.equal(false);
    expect(progressAllowed({ isTTY: true }, { CI: 'true' })).to.equal(false);
    expect(progressAllowed({ isTTY: true }, { GITHUB_ACTIONS: 'true' })).to.equal(false);
    expect(progressAllowed({ isTTY: true }, { CI: 'false' })).to.equal(true);
    expect(progressAllowed({ isTTY: true }, { TERM: 'dumb' })).to.equal(false);
  });

  it('draws on a terminal once the run lasts, and finishes cleanly', function () {
    const terminal = fakeTerminal();
    const progress = startProgress({ label: 'Reading events', total: () => 10_000, stream: terminal, env: {}, delayMs: 0 });
    for (let i = 0; i < 10_000; i++) progress.advance();
    progress.done();
    progress.done();
    expect(terminal.text()).to.include('Reading events');
    expect(terminal.text()).to.match(/10,000\/10,000 events/);
  });

  it('draws nothing on a stream that is not a terminal, with --no-progress, or before the delay', function () {
    for (const [stream, options] of [
      [Object.assign(new PassThrough(), { isTTY: false }), {}],
      [fakeTerminal(), { enabled: false }],
      [fakeTerminal(), { delayMs: 60_000 }],
    ] as const) {
      let text = '';
      stream.on('data', (d: Buffer) => (text += d.toString()));
      const progress = startProgress({ label: 'x', total: () => 5000, stream, env: {}, delayMs: 0, ...options });
      for (let i = 0; i < 5000; i++) progress.advance();
      progress.done();
      expect(text).to.equal('');
    }
  });

  it('counts the records of a log for the total', function () {
    expect(countRecords({ path: join(log, 'audit_log.jsonl'), format: 'jsonl' })).to.equal(EVENTS);
    expect(countRecords({ path: join(log, 'audit_log.csv'), format: 'csv' })).to.equal(EVENTS);
    expect(countRecords({ path: join(log, 'audit_log.json'), format: 'json' })).to.equal(EVENTS); // not its reserve's blank lines
  });

  it('shows on a real terminal for report and export, and not under CI or in a pipe', async function () {
    const dir = tempDir();
    const report = await runInTerminal(['report', log, '--out', join(dir, 'a.html')], withoutCi());
    expect(report.code, report.output).to.equal(0);
    expect(report.output).to.include('Reading events');
    const exported = await runInTerminal(['export', log, '--out', join(dir, 'a.csv')], withoutCi());
    expect(exported.code, exported.output).to.equal(0);
    expect(exported.output).to.include('Exporting');

    const underCi = await runInTerminal(['report', log, '--out', join(dir, 'b.html')], withoutCi({ CI: 'true' }));
    expect(underCi.code, underCi.output).to.equal(0);
    expect(underCi.output).not.to.include('Reading events');
    const noProgress = await runInTerminal(['report', log, '--out', join(dir, 'c.html'), '--no-progress'], withoutCi());
    expect(noProgress.output).not.to.include('Reading events');

    const piped = await runCli(['export', log, '--out', join(dir, 'b.csv')], { env: withoutCi() });
    expect(piped.code, piped.stderr).to.equal(0);
    expect(piped.stderr).to.match(/^Exported 3000 events from .* to .*b\.csv \(csv\)\n$/);
    const pipedReport = await runCli(['report', log, '--out', join(dir, 'd.html')], { env: withoutCi() });
    expect(pipedReport.stderr).to.match(/^Wrote a report of 3000 events from .*\n$/);
  });
});
