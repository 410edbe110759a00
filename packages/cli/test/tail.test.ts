// `auditrail tail`: the last events of a log, and --follow in a child process while a real AuditLogger
// writes, through rotation (rename + recreate), truncation, a rewritten newest-first array and torn lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readdirSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { AuditLogger, FORMAT_FILES, type LogFormat } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { CLI_BIN, jsonLines, runCli } from './helpers/run-cli';

type FileFormat = Exclude<LogFormat, 'none'>;

interface Marked {
  details: { n: number };
  status: string;
  seq: number;
}

async function writeEvents(dir: string, format: FileFormat, from: number, to: number, options: { order?: 'newest-first' } = {}): Promise<void> {
  const logger = new AuditLogger({ rootLogDir: dir, format, fsync: 'never', ...options });
  for (let n = from; n < to; n++) await logger.logEvent('step', { n }, n % 3 === 0 ? 'FAILURE' : 'INFO');
  await logger.close();
}

/** A `tail --follow` child whose stdout is collected; killed with SIGKILL after each test. */
class Follower {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI_BIN, 'tail', ...args, '--follow', '--json', '--interval', '50'], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
  }

  /** The `n` of every event printed so far, in order. */
  numbers(): number[] {
    const complete = this.stdout.slice(0, this.stdout.lastIndexOf('\n') + 1);
    return jsonLines<Marked>(complete).map((e) => e.details.n);
  }

  /** Waits until `count` events were printed; fails with what was seen after 15 s. */
  async waitFor(count: number): Promise<number[]> {
    const deadline = Date.now() + 15_000;
    while (this.numbers().length < count) {
      if (this.child.exitCode !== null) throw new Error(`tail exited with ${this.child.exitCode}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`waited for ${count} events, got ${JSON.stringify(this.numbers())}; stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.numbers();
  }

  /** Gives the follower a moment, to show that nothing more is printed. */
  async settle(): Promise<number[]> {
    await new Promise((r) => setTimeout(r, 400));
    return this.numbers();
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('auditrail tail', function () {
  const followers: Follower[] = [];
  const follow = (args: string[]): Follower => {
    const follower = new Follower(args);
    followers.push(follower);
    return follower;
  };

  afterEach(function () {
    for (const follower of followers.splice(0)) follower.child.kill('SIGKILL');
  });

  for (const format of ['jsonl', 'json', 'csv'] as const) {
    it(`prints the last N events of a ${format} log and exits, with show's filters`, async function () {
      const dir = tempDir();
      await writeEvents(dir, format, 0, 30);
      const last = await runCli(['tail', dir, '-n', '4', '--json']);
      expect(last.code, last.stderr).to.equal(0);
      expect(jsonLines<Marked>(last.stdout).map((e) => e.details.n)).to.deep.equal([26, 27, 28, 29]);
      const failures = await runCli(['tail', dir, '-n', '3', '--status', 'failure', '--json']);
      expect(jsonLines<Marked>(failures.stdout).map((e) => e.details.n)).to.deep.equal([21, 24, 27]);
      const readable = await runCli(['tail', dir, '-n', '1']);
      expect(readable.stdout).to.match(/^\S+Z #30 INFO\s+step \{"n":29\}\n$/);
    });

    it(`follows a ${format} log as a real logger writes it, and through rotation (rename + recreate)`, async function () {
      const dir = tempDir();
      await writeEvents(dir, format, 0, 5);
      const follower = follow([dir, '-n', '2']);
      expect(await follower.waitFor(2)).to.deep.equal([3, 4]);
      await writeEvents(dir, format, 5, 12);
      expect(await follower.waitFor(9)).to.deep.equal([3, 4, ...range(5, 12)]);
      // Rotation: the file is renamed away and a new logger starts a new file in the same directory.
      renameSync(join(dir, FORMAT_FILES[format]), join(dir, FORMAT_FILES[format] + '.1'));
      await writeEvents(dir, format, 12, 20);
      expect(await follower.waitFor(17)).to.deep.equal([3, 4, ...range(5, 20)]);
      expect(await follower.settle()).to.have.length(17);
    });
  }

  for (const format of ['jsonl', 'json'] as const) {
    it(`keeps up with a fast ${format} writer: every event once, in order`, async function () {
      const dir = tempDir();
      await writeEvents(dir, format, 0, 1);
      const follower = follow([dir]);
      await follower.waitFor(1);
      await writeEvents(dir, format, 1, 1500);
      expect(await follower.waitFor(1500)).to.deep.equal(range(0, 1500));
    });
  }

  it("follows the logger's own rotation of the journal into segments, every event once", async function () {
    const dir = tempDir();
    const rotating = async (from: number, to: number): Promise<void> => {
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never', rotation: { maxBytes: 1500 } });
      for (let n = from; n < to; n++) await logger.logEvent('step', { n });
      await logger.close();
    };
    await rotating(0, 3);
    const follower = follow([dir]);
    await follower.waitFor(3);
    await rotating(3, 40);
    expect(await follower.waitFor(40)).to.deep.equal(range(0, 40));
    expect(readdirSync(dir).filter((name) => /^audit_log\..+\.jsonl$/.test(name)).length).to.be.greaterThan(2); // it did rotate
    expect(await follower.settle()).to.have.length(40);
    // The last N reach back into the segments when the live file holds fewer.
    const last = await runCli(['tail', dir, '-n', '12', '--json']);
    expect(jsonLines<Marked>(last.stdout).map((e) => e.details.n)).to.deep.equal(range(28, 40));
  });

  it('follows a newest-first JSON array, which the logger rewrites by rename on every event, without repeats', async function () {
    const dir = tempDir();
    await writeEvents(dir, 'json', 0, 4, { order: 'newest-first' });
    const follower = follow([dir, '-n', '3']);
    expect(await follower.waitFor(3)).to.deep.equal([1, 2, 3]);
    await writeEvents(dir, 'json', 4, 10, { order: 'newest-first' });
    expect(await follower.waitFor(9)).to.deep.equal(range(1, 10));
    expect(await follower.settle()).to.have.length(9);
  });

  it('starts over when the file is truncated in place (copytruncate) and filters what it follows', async function () {
    const dir = tempDir();
    await writeEvents(dir, 'jsonl', 0, 6);
    const follower = follow([dir, '-n', '10', '--status', 'FAILURE']);
    expect(await follower.waitFor(2)).to.deep.equal([0, 3]);
    truncateSync(join(dir, 'audit_log.jsonl'), 0);
    await writeEvents(dir, 'jsonl', 6, 13);
    expect(await follower.waitFor(5)).to.deep.equal([0, 3, 6, 9, 12]);
  });

  it('does not print a torn last line until it is complete', async function () {
    const dir = tempDir();
    await writeEvents(dir, 'jsonl', 0, 1);
    const follower = follow([dir]);
    expect(await follower.waitFor(1)).to.deep.equal([0]);
    const line = JSON.stringify({ id: 'torn-1', seq: 2, timestamp: '2026-05-27T14:30:05.000000Z', action_type: 'step', status: 'INFO', details: { n: 1 } });
    appendFileSync(join(dir, 'audit_log.jsonl'), line.slice(0, 40));
    expect(await follower.settle()).to.deep.equal([0]);
    appendFileSync(join(dir, 'audit_log.jsonl'), line.slice(40) + '\n');
    expect(await follower.waitFor(2)).to.deep.equal([0, 1]);
  });

  it('waits for the log of an empty directory to appear', async function () {
    const dir = tempDir();
    const follower = follow([dir]);
    await new Promise((r) => setTimeout(r, 200));
    await writeEvents(dir, 'csv', 0, 3);
    expect(await follower.waitFor(3)).to.deep.equal([0, 1, 2]);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`stops following on ${signal} with exit code 0`, async function () {
      const dir = tempDir();
      await writeEvents(dir, 'jsonl', 0, 2);
      const follower = follow([dir]);
      await follower.waitFor(2);
      const exited = new Promise<number | null>((done) => follower.child.on('exit', (code) => done(code)));
      follower.child.kill(signal);
      expect(await exited).to.equal(0);
      expect(follower.stderr).to.equal('');
    });
  }

  it('refuses a CSV that is not an audit log, as show does', async function () {
    const dir = tempDir();
    writeFileSync(join(dir, 'audit_log.csv'), 'name,email\nalice,a@example.com\n');
    for (const args of [[dir], [dir, '--follow']]) {
      const run = await runCli(['tail', ...args]);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(/^auditrail: .*audit_log\.csv is not an audit log CSV: its header lacks timestamp, action_type, status, details\n$/);
    }
  });

  it('reports a missing log as one line and exit code 1 without --follow', async function () {
    const dir = tempDir();
    const run = await runCli(['tail', dir]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/^auditrail: No audit log in .*\n$/);
    writeFileSync(join(dir, 'notes.txt'), 'x');
    const missing = await runCli(['tail', join(dir, 'nope'), '--follow']);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/No audit log at .*nope/);
  });
});
