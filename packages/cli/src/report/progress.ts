// A progress bar for long runs (export or report of a million events): on an interactive terminal
// only, never in a pipe or a CI log, and only once a run has lasted long enough to need one.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import type { LogFileRef } from '@auditrail/core';
import { logFiles, type OpenedLog } from '../open-log';

/** Counts work done; a no-op when no bar is shown. */
export interface Progress {
  /** Records that `n` more events were processed (cheap: the bar redraws a few times a second at most). */
  advance(n?: number): void;
  /** Completes the bar (at 100%) and removes it; safe to call twice, and after a failure. */
  done(): void;
}

/** Where the bar goes and when it may show. */
export interface ProgressOptions {
  /** What is being done, e.g. "Reading events". */
  label: string;
  /** Total number of events, computed only when the bar is about to show. */
  total: () => number;
  /** Stream of the bar; default process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Environment to look for CI in; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The bar shows only after this long (ms); default AUDITRAIL_PROGRESS_DELAY_MS, then 1000, so quick runs stay quiet. */
  delayMs?: number;
  /** false turns the bar off whatever the terminal (--no-progress). */
  enabled?: boolean;
}

const CI_VARIABLES = ['CI', 'CONTINUOUS_INTEGRATION', 'BUILD_NUMBER', 'RUN_ID', 'GITHUB_ACTIONS', 'GITLAB_CI', 'BUILDKITE', 'TF_BUILD', 'JENKINS_URL'];

/** Whether a progress bar may be drawn: the stream is a terminal, TERM is not dumb, and no CI variable is set. */
export function progressAllowed(stream: { isTTY?: boolean } = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  if (stream.isTTY !== true || env.TERM === 'dumb') return false;
  return !CI_VARIABLES.some((name) => {
    const value = env[name];
    return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
  });
}

const NO_PROGRESS: Progress = { advance: () => undefined, done: () => undefined };
const CHECK_EVERY = 1024;

/** A progress bar for a run of `total()` events; NO_PROGRESS-like when not allowed. */
export function startProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.enabled === false || !progressAllowed(stream, options.env ?? process.env)) return NO_PROGRESS;
  const startedAt = Date.now();
  const delayMs = options.delayMs ?? delayFromEnv(options.env ?? process.env) ?? 1000;
  let count = 0;
  let bar: SingleBar | undefined;
  let total = 0;
  let finished = false;
  return {
    advance(n = 1) {
      const before = count;
      count += n;
      if (finished || Math.floor(before / CHECK_EVERY) === Math.floor(count / CHECK_EVERY)) return;
      if (bar) {
        if (count > total) bar.setTotal((total = count));
        bar.update(count);
      } else if (Date.now() - startedAt >= delayMs) {
        total = Math.max(options.total(), count);
        bar = new SingleBar({
          stream: stream as NodeJS.WriteStream,
          format: `${options.label} [{bar}] {percentage}% | {value}/{total} events | {duration_formatted} elapsed, ETA {eta_formatted}`,
          barCompleteChar: '\u2588',
          barIncompleteChar: '\u2591',
          hideCursor: true,
          clearOnComplete: true,
          formatValue: (value, _options, type) => (type === 'value' || type === 'total' ? Number(value).toLocaleString('en-US') : String(value)),
        });
        bar.start(total, count);
      }
    },
    done() {
      if (finished) return;
      finished = true;
      if (!bar) return;
      bar.setTotal(Math.max(count, 1));
      bar.update(count);
      bar.stop();
    },
  };
}

function delayFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const text = env.AUDITRAIL_PROGRESS_DELAY_MS?.trim();
  return text && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** Number of records of a log, segments included, by its newlines (fast; approximate for CSV cells holding newlines): the bar's total. */
export function countRecords(log: LogFileRef | OpenedLog): number {
  return logFiles(log).reduce((total, file) => total + (existsSync(file.path) ? countFileRecords(file) : 0), 0);
}

function countFileRecords(log: LogFileRef): number {
  const fd = openSync(log.path, 'r');
  const buffer = Buffer.alloc(1 << 20);
  // A JSON array's records are its lines that open an object (its reserve is blank lines); other formats', every line.
  const opensRecord = (byte: number | undefined): boolean => log.format !== 'json' || byte === 0x7b;
  let lines = 0;
  let last = 0x0a;
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      if (last === 0x0a && opensRecord(buffer[0])) lines++;
      for (let i = buffer.indexOf(0x0a, 0); i >= 0 && i < n - 1; i = buffer.indexOf(0x0a, i + 1)) if (opensRecord(buffer[i + 1])) lines++;
      last = buffer[n - 1]!;
    }
  } finally {
    closeSync(fd);
  }
  return Math.max(0, lines - (log.format === 'csv' ? 1 : 0)); // the header
}
