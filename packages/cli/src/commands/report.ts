// `auditrail report DIR --out report.html`: one self-contained HTML page (no network) to look at a log:
// timeline by action and status, failures and CRITICAL highlighted, counts per action, filters, details on click.
import { basename, resolve } from 'node:path';
import { formatTimestamp, InvalidOptionError } from '@auditrail/core';
import { InvalidArgumentError, type Command } from 'commander';
import { describeLog } from '../open-log';
import { addSelectionOptions, selectionFrom, type SelectionFlags } from '../options';
import { AtomicFileOutput, sameFile, StreamOutput } from '../output';
import { countRecords, startProgress } from '../report/progress';
import { writeReport } from '../report/write-report';
import { openLog, selectEvents, type Selection } from '../select';

/** Options of the report command. */
interface ReportFlags extends SelectionFlags {
  /** Destination .html file, or - for stdout. */
  out: string;
  /** Replace an existing destination. */
  force?: boolean;
  /** Heading of the page. */
  title?: string;
  /** Most events held in full. */
  maxEvents: number;
  /** false with --no-progress. */
  progress: boolean;
}

const DEFAULT_MAX_EVENTS = 100_000;

/** Adds the report command. */
export function registerReport(program: Command): void {
  const command = program
    .command('report')
    .description('write one self-contained HTML page (no network) to explore a log: timeline, counts, filters, details')
    .argument('<target>', 'log directory or file (jsonl, json or csv)')
    .requiredOption('-o, --out <file>', 'destination .html file, or - for stdout')
    .option('-f, --force', 'replace the destination if it exists')
    .option('--title <text>', 'heading of the page (default: "Audit report: " and the log name)')
    .option('--max-events <count>', `hold at most this many events in full, the newest; counts cover all ("all" for no cap)`, maxEventsOption, DEFAULT_MAX_EVENTS)
    .option('--no-progress', 'no progress bar, even on a terminal');
  addSelectionOptions(command, { ordering: false }).action(async (target: string, flags: ReportFlags) => {
    const selection = selectionFrom(flags);
    const log = openLog(target);
    if (flags.out !== '-' && sameFile(log.path, flags.out)) throw new InvalidOptionError('--out', `${flags.out} is the log itself; choose another file`);
    const out = flags.out === '-' ? new StreamOutput(process.stdout) : await AtomicFileOutput.create(flags.out, Boolean(flags.force));
    const progress = startProgress({ label: 'Reading events', total: () => countRecords(log), enabled: flags.progress });
    let result;
    try {
      const meta = { title: flags.title ?? `Audit report: ${logName(target)}`, source: describeLog(log), selection: describeSelection(selection), maxEvents: flags.maxEvents };
      result = await writeReport(selectEvents(log, { ...selection, onRead: () => progress.advance() }), meta, out);
      progress.done();
      await out.end();
    } catch (err) {
      progress.done();
      if (out instanceof AtomicFileOutput) await out.abort();
      throw err;
    }
    if (flags.out !== '-') {
      const held = result.shown < result.total ? ` (the newest ${result.shown} in full)` : '';
      process.stderr.write(`Wrote a report of ${result.total} event${result.total === 1 ? '' : 's'}${held} from ${describeLog(log)} to ${flags.out}\n`);
    }
  });
}

function maxEventsOption(value: string): number {
  if (value.trim().toLowerCase() === 'all') return Number.MAX_SAFE_INTEGER;
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('Expected a whole number of at least 1, or "all".');
  return n;
}

function logName(target: string): string {
  return basename(resolve(target)) || target;
}

/** The command-line filters in words, for the page's header. */
function describeSelection(selection: Selection): string {
  const parts: string[] = [];
  if (selection.actions) parts.push(`action: ${[...selection.actions].join(', ')}`);
  if (selection.statuses) parts.push(`status: ${[...selection.statuses].join(', ')}`);
  if (selection.sinceUs !== undefined) parts.push(`since ${formatTimestamp(selection.sinceUs)}`);
  if (selection.untilUs !== undefined) parts.push(`until ${formatTimestamp(selection.untilUs)}`);
  return parts.join('; ');
}
