// Runs the built `auditrail` binary in a child process, as a user would, and collects its output.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Path of the built binary. */
export const CLI_BIN = join(__dirname, '..', '..', 'dist', 'bin.js');

/** What a run of the binary produced. */
export interface CliRun {
  /** Exit code (null if killed). */
  code: number | null;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Options of `runCli`. */
export interface RunCliOptions {
  /** Working directory. */
  cwd?: string;
  /** Extra environment; colour is off unless given here. */
  env?: NodeJS.ProcessEnv;
  /** Killed with SIGKILL after this long (default 30 s), so a hang fails the test instead of the run. */
  timeoutMs?: number;
}

/** Runs `node packages/cli/dist/bin.js ...args` and resolves when it exits. */
export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env };
  if (!options.env || !('FORCE_COLOR' in options.env)) delete env.FORCE_COLOR;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    timer.unref();
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The JSON lines of a run's stdout, parsed. */
export function jsonLines<T = Record<string, unknown>>(stdout: string): T[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** Asserts a failed run: the exit code, nothing on stdout, and one `auditrail: ...` line on stderr with no stack trace. */
export function expectOneLineError(run: CliRun, code: number, message: RegExp, label = String(message)): void {
  expect(run.code, `${label}: ${run.stderr}`).to.equal(code);
  expect(run.stdout, label).to.equal('');
  expect(run.stderr, label).to.match(/^auditrail: [^\n]+\n$/);
  expect(run.stderr, label).to.match(message);
  expect(run.stderr, label).not.to.match(/\n\s+at /);
}
