// `auditrail collect` as a user runs it: bad option values name the flag given (not the library's option),
// in one line with exit code 2; the collector's warnings come in the CLI's own form; a loop failure is one error line.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger } from '@auditrail/core';
import { NatsSink } from '@auditrail/nats';
import { CLI_BIN, expectOneLineError, runCli } from '../packages/cli/test/helpers/run-cli';
import { jetStreamSuite, NATS_URL } from '../packages/nats/test/helpers';
import { tempDir } from './helpers/tmp';


/** A running `auditrail collect` child and what it wrote to stderr so far. */
interface Running {
  child: ChildProcess;
  stderr: () => string;
}

/** Spawns `node <script>`, where the script may patch the built packages before it loads the real binary. */
function spawnCollect(args: readonly string[], patch = ''): Running {
  const script = `${patch}\nprocess.argv = [process.execPath, ${JSON.stringify(CLI_BIN)}, ...${JSON.stringify(args)}];\nrequire(${JSON.stringify(CLI_BIN)});\n`;
  const file = join(tempDir(), 'run-collect.js');
  writeFileSync(file, script);
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  const child = spawn(process.execPath, [file], { cwd: join(__dirname, '..'), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout!.resume();
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  timer.unref();
  child.on('exit', () => clearTimeout(timer));
  return { child, stderr: () => stderr };
}

async function until(check: () => boolean, what: string, run: Running, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; stderr so far:\n${run.stderr()}`);
    if (run.child.exitCode !== null) throw new Error(`collect exited (${run.child.exitCode}) before ${what}; stderr:\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('auditrail collect (real binary)', function () {
  this.timeout(90_000);
  const suite = jetStreamSuite('CC'); // fails, not skips, when NATS is missing
  const { names } = suite;
  const children: ChildProcess[] = [];

  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('names the flag, not the library option, when --nats or --dead-letter is bad: one line, exit code 2', async () => {
    const dir = tempDir();
    const cases: [string[], RegExp][] = [
      [['--nats', 'nats://bad host'], /^auditrail: Invalid option "--nats": "nats:\/\/bad host" is not a server URL\n$/],
      [['--nats', 'nats://127.0.0.1:4222,'], /^auditrail: Invalid option "--nats": "" is not a server URL\n$/],
      [['--dead-letter', '/nope/x'], /^auditrail: Invalid option "--dead-letter": cannot append to "\/nope\/x"/],
      [['--dead-letter', dir], /^auditrail: Invalid option "--dead-letter": cannot append to .*it is a directory/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(['collect', '--to', join(dir, 'out'), ...args], { timeoutMs: 15_000 })));
    runs.forEach((run, i) => {
      const label = cases[i]![0].join(' ');
      expectOneLineError(run, 2, cases[i]![1], label);
      expect(run.stderr, label).not.to.match(/"servers"|"deadLetterPath"/);
    });
  });

  it('leaves --batch to the collector, and names --stream, --durable and the target flags the same way', async () => {
    const dir = tempDir();
    const cases: [string[], RegExp][] = [
      [['--batch', '0'], /^auditrail: Invalid option "--batch": "0" is not a whole number of at least 1\n$/],
      [['--batch', '2.5'], /^auditrail: Invalid option "--batch": "2.5" is not a whole number of at least 1\n$/],
      [['--batch', 'lots'], /^auditrail: Invalid option "--batch": "lots" is not a whole number of at least 1\n$/],
      [['--stream', 'A.B'], /^auditrail: Invalid option "--stream": "A.B" is not a valid name/],
      [['--durable', 'a b'], /^auditrail: Invalid option "--durable": "a b" is not a valid name/],
      [['--to', 'postgres://127.0.0.1/x', '--table', 'a-b'], /^auditrail: Invalid option "--table": "a-b" is not a plain SQL identifier/],
      [['--to', 'http://'], /^auditrail: Invalid option "--to": "http:\/\/" is not a valid URL/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(['collect', '--to', join(dir, 'out'), ...args], { timeoutMs: 15_000 })));
    runs.forEach((run, i) => expectOneLineError(run, 2, cases[i]![1], cases[i]![0].join(' ')));
    expect(existsSync(join(dir, 'out')), 'a refused command leaves no target directory behind').to.equal(false);
    writeFileSync(join(dir, 'a-file'), '');
    expectOneLineError(await runCli(['collect', '--to', join(dir, 'a-file')], { timeoutMs: 15_000 }), 2, /^auditrail: Invalid option "--to": .*a-file exists and is not a directory\n$/);
    const leaky = await runCli(['collect', '--to', 'ftp://alice:s3cret@archive.example/x'], { timeoutMs: 15_000 });
    expectOneLineError(leaky, 2, /^auditrail: Invalid option "--to": "ftp:\/\/\*\*\*@archive\.example\/x": expected a postgres:\/\/ or http\(s\):\/\/ URL/);
    expect(leaky.stderr, 'no password in an error line').not.to.include('s3cret');
    expect((await runCli(['collect', '--to', join(dir, 'out'), '--batch', '1e3', '--stream', `NOSUCH_${process.pid}`], { timeoutMs: 15_000 })).stderr).not.to.include('--batch');
  });

  it('shows a DEAD_LETTER_FAILED warning as "auditrail: warning: ...", not as a Node process warning', async () => {
    const { stream, prefix } = names();
    await (await suite.nc.jetstreamManager()).streams.add({ name: stream, subjects: [`${prefix}.>`] });
    const deadDir = join(tempDir(), 'dead');
    mkdirSync(deadDir);
    const deadLetter = join(deadDir, 'dead.jsonl');
    const run = spawnCollect(['collect', '--nats', NATS_URL, '--stream', stream, '--durable', 'w1', '--to', join(tempDir(), 'out'), '--dead-letter', deadLetter]);
    children.push(run.child);
    await until(() => run.stderr().includes('auditrail: collecting'), 'the collector to start', run);
    rmSync(deadDir, { recursive: true }); // the dead letter of the message below cannot be written now
    await suite.nc.jetstream().publish(`${prefix}.x.y`, 'not an audit event');
    await until(() => run.stderr().includes('auditrail: warning: cannot write 1 dead letter(s)'), 'the warning', run);
    mkdirSync(deadDir);
    await until(() => existsSync(deadLetter), 'the dead letter written', run);
    run.child.kill('SIGTERM');
    expect(await exitCode(run.child), run.stderr()).to.equal(0);
    const lines = run.stderr().trimEnd().split('\n');
    for (const line of lines) expect(line, run.stderr()).to.match(/^auditrail: /);
    expect(run.stderr()).not.to.match(/AuditrailWarning|\(node:\d+\)|auditrail collector:/);
    expect(lines.filter((l) => l.startsWith('auditrail: warning: '))[0]).to.match(/^auditrail: warning: cannot write 1 dead letter\(s\) to .*dead\.jsonl \(.*\); the messages are left unacknowledged and redelivered$/);
    expect(lines.at(-1)).to.equal('auditrail: stopped; 0 events written, 1 dead-lettered');
  });

  it('reports a collecting loop that fails (its connection closed under it) in one error line, without the COLLECTOR_STOPPED process warning, and exits 1', async () => {
    const { stream, prefix } = names();
    const sink = new NatsSink({ servers: NATS_URL, subjectPrefix: prefix, stream: { name: stream } });
    const logger = new AuditLogger({ format: 'none' });
    expect((await sink.export([await logger.logEvent('a')], new AbortController().signal)).code).to.equal('ok');
    await sink.shutdown();
    await logger.close();
    // The connection dies while the first batch is written: its acknowledgement cannot be sent, and collecting stops.
    const patch = `
const { Collector } = require(${JSON.stringify(join(__dirname, '..', 'packages', 'nats', 'dist', 'index.js'))});
const start = Collector.prototype.start;
Collector.prototype.start = async function () {
  await start.call(this);
  const target = this.options.target;
  const write = target.export.bind(target);
  target.export = async (batch, signal) => {
    await this.connection.close();
    return write(batch, signal);
  };
};`;
    const run = spawnCollect(['collect', '--nats', NATS_URL, '--stream', stream, '--durable', 'f1', '--to', join(tempDir(), 'out')], patch);
    children.push(run.child);
    const code = await exitCode(run.child);
    const stderr = run.stderr();
    expect(code, stderr).to.equal(1);
    expect(stderr).not.to.match(/COLLECTOR_STOPPED|AuditrailWarning|\(node:\d+\)|\n\s+at /);
    const [started, ...rest] = stderr.trimEnd().split('\n');
    expect(started).to.match(/^auditrail: collecting CC_/);
    expect(rest, stderr).to.have.length(1);
    expect(rest[0]).to.match(/^auditrail: collecting stopped on an error: \S/);
  });
});
