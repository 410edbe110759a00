// `auditrail tail DIR [-n N] [--follow]`: the last events of a log, then (with --follow) each new one as it is
// written, in any format, through rotation and recreation of the file; with the same filters as `show`.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AuditReadError, listSegments, locateLog, readEvents, type AuditEvent } from '@auditrail/core';
import { InvalidArgumentError, type Command } from 'commander';
import { followLog } from '../follow/follow-log';
import { inLogOrder, LogCursor, type CursorListener } from '../follow/log-cursor';
import { formatEvent, wantsColor } from '../format-event';
import { addSelectionOptions, selectionFrom, type SelectionFlags } from '../options';
import { matches, type Selection } from '../select';

/** Options of the tail command. */
interface TailFlags extends SelectionFlags {
  /** How many of the last events to print first. */
  lines: number;
  /** Keep printing new events until interrupted. */
  follow?: boolean;
  /** One JSON object per line. */
  json?: boolean;
  /** Poll interval in milliseconds when following. */
  interval: number;
}

/** Adds the tail command. */
export function registerTail(program: Command): void {
  const command = program
    .command('tail')
    .description('print the last events of a log; with --follow, print new events as they are written (through rotation)')
    .argument('<target>', 'log directory or file (jsonl, json or csv)')
    .option('-n, --lines <count>', 'how many of the last (matching) events to print first', nonNegativeInteger, 10)
    .option('-f, --follow', 'keep printing new events as they are written, until interrupted')
    .option('--json', 'one JSON object per line, as in audit_log.jsonl')
    .option('--interval <ms>', 'when following, look for changes at least this often (milliseconds)', pollInterval, 500);
  addSelectionOptions(command, { ordering: false }).action(async (target: string, flags: TailFlags) => {
    const selection = selectionFrom(flags);
    const isDirectory = isDirectoryTarget(target, Boolean(flags.follow));
    const cursor = new LogCursor(target, isDirectory);
    const print = printer(flags, selection);
    // Listening from the start: a SIGTERM right after the first events are printed must end the follow, not the process.
    const interrupt = flags.follow ? interruptible() : undefined;
    try {
      const newest = new NewestEvents(flags.lines, selection);
      await cursor.start({ events: (batch) => newest.add(batch), problem: warn }, { count: flags.lines, accept: (event) => matches(event, selection) });
      if (isDirectory && cursor.path?.endsWith('.jsonl')) await addFromSegments(target, newest);
      print(newest.take());
      if (!flags.follow) {
        if (!cursor.path) locateLog(target); // no log at all: the same error as every other command
        return;
      }
      const listener: CursorListener = { events: (batch) => print(inLogOrder(batch)), problem: warn };
      interrupt!.following();
      await followLog(cursor, listener, { watchDir: isDirectory ? target : dirname(resolve(target)), pollMs: flags.interval, signal: interrupt!.signal });
    } finally {
      interrupt?.dispose();
      await cursor.close();
    }
  });
}

/** A directory is followed even before its log exists, and so is a log file (by its extension) in an existing directory. */
function isDirectoryTarget(target: string, follow: boolean): boolean {
  try {
    return statSync(target).isDirectory();
  } catch {
    if (follow && /\.(jsonl|ndjson|json|csv)$/i.test(target) && existsParent(target)) return false;
    throw new AuditReadError(`No audit log at ${target}: no such file or directory`);
  }
}

function existsParent(target: string): boolean {
  try {
    return statSync(dirname(resolve(target))).isDirectory();
  } catch {
    return false;
  }
}

/**
 * An abort signal for SIGINT, SIGTERM or a closed stdout (read errors end the command); dispose() stops listening.
 * Until following() the first read is under way, which does not watch the signal: a signal then ends the process at once.
 */
function interruptible(): { signal: AbortSignal; following(): void; dispose(): void } {
  const stop = new AbortController();
  let reading = true;
  const onSignal = (): void => {
    if (reading) process.exit(0); // Ctrl-C on a long first read: nothing is half written, stop now
    stop.abort();
  };
  const onOutputError = (): void => stop.abort(); // bin.ts ends the process on EPIPE; this covers in-process use
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stdout.once('error', onOutputError);
  return {
    signal: stop.signal,
    following() {
      reading = false;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdout.off('error', onOutputError);
    },
  };
}

/** Just after the logger rotated its journal the live file holds few events: take the rest of the last N from the newest segments. */
async function addFromSegments(dir: string, newest: NewestEvents): Promise<void> {
  const segments = listSegments(dir);
  for (let i = segments.length - 1; i >= 0 && !newest.full(); i--) {
    const events: AuditEvent[] = [];
    for await (const event of readEvents({ path: segments[i]!.path, format: 'jsonl' })) events.push(event);
    newest.add(events);
  }
}

/** Keeps the newest `count` matching events of the first read, whatever the file's order. */
class NewestEvents {
  private kept: { event: AuditEvent; key: number }[] = [];
  private index = 0;

  constructor(private readonly count: number, private readonly selection: Selection) {}

  add(batch: AuditEvent[]): void {
    if (this.count === 0) return;
    for (const event of batch) {
      const position = this.index++;
      if (!matches(event, this.selection)) continue;
      this.kept.push({ event, key: typeof event.seq === 'number' && event.seq > 0 ? event.seq : position });
    }
    if (this.kept.length >= 2 * this.count) this.trim();
  }

  /** Whether `count` matching events are kept. */
  full(): boolean {
    this.trim();
    return this.kept.length >= this.count;
  }

  /** The kept events, oldest first. */
  take(): AuditEvent[] {
    this.trim();
    return this.kept.map((entry) => entry.event);
  }

  private trim(): void {
    this.kept.sort((a, b) => a.key - b.key);
    if (this.kept.length > this.count) this.kept = this.kept.slice(this.kept.length - this.count);
  }
}

/** Writes the matching events of a batch, one line each, in a single write so lines never interleave. */
function printer(flags: TailFlags, selection: Selection): (events: AuditEvent[]) => void {
  const color = !flags.json && wantsColor(process.stdout);
  return (events) => {
    let text = '';
    for (const event of events) {
      if (!matches(event, selection)) continue;
      text += (flags.json ? JSON.stringify(event) : formatEvent(event, { color })) + '\n';
    }
    if (text !== '') process.stdout.write(text);
  };
}

function warn(message: string): void {
  process.stderr.write(`auditrail: skipped ${message}\n`);
}

function nonNegativeInteger(value: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('Expected a whole number (0 or more).');
  return n;
}

function pollInterval(value: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 10 || n > 60_000) throw new InvalidArgumentError('Expected milliseconds between 10 and 60000.');
  return n;
}
