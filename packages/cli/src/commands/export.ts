// `auditrail export DIR --to csv|json|jsonl --out FILE`: converts a log, streaming, into a file the reader reads back.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CSV_COLUMNS, eventToCsv, FORMAT_FILES, InvalidOptionError, type AuditEvent, type LogFileRef } from '@auditrail/core';
import { InvalidArgumentError, type Command } from 'commander';
import { addSelectionOptions, selectionFrom, type SelectionFlags } from '../options';
import { AtomicFileOutput, sameFile, StreamOutput, type TextSink } from '../output';
import { countRecords, startProgress } from '../report/progress';
import { describeLog } from '../open-log';
import { openLog, selectEvents } from '../select';

/** A format the export writes. */
export type ExportFormat = 'csv' | 'json' | 'jsonl';

const FORMATS: readonly ExportFormat[] = ['csv', 'json', 'jsonl'];

/** Options of the export command. */
interface ExportFlags extends SelectionFlags {
  /** Target format; taken from --out's extension when omitted. */
  to?: ExportFormat;
  /** Destination file, or - for stdout. */
  out: string;
  /** Replace an existing destination. */
  force?: boolean;
}

/** How each format frames its events: the same layout the logger's own files use, so the reader streams them. */
interface Framing {
  head: string;
  event(event: AuditEvent, index: number): string;
  tail(count: number): string;
}

const FRAMINGS: Record<ExportFormat, Framing> = {
  jsonl: { head: '', event: (e) => JSON.stringify(e) + '\n', tail: () => '' },
  json: { head: '[\n', event: (e, i) => (i === 0 ? '' : ',\n') + JSON.stringify(e), tail: (n) => (n === 0 ? ']\n' : '\n]\n') },
  // The logger's own codec: the same columns, quoting and formula neutralisation as audit_log.csv.
  csv: { head: CSV_COLUMNS.join(',') + '\n', event: (e) => eventToCsv(e), tail: () => '' },
};

/** Adds the export command. */
export function registerExport(program: Command): void {
  const command = program
    .command('export')
    .description('write the events of a log (all, or the selected ones) to a CSV, JSON array or JSONL file')
    .argument('<target>', 'log directory or file (jsonl, json or csv)')
    .requiredOption('-o, --out <file>', 'destination file, or - for stdout')
    .option('-t, --to <format>', 'csv, json or jsonl; default: from the --out extension', formatOption)
    .option('-f, --force', 'replace the destination if it exists')
    .addHelpText(
      'after',
      `
Examples:
  $ auditrail export ./audit_logs --out audit.csv
  $ auditrail export ./audit_logs --status failed --since 7d --out failures.jsonl
  $ auditrail export ./audit_logs --to json --out - | jq length`,
    );
  addSelectionOptions(command).action(async (target: string, flags: ExportFlags) => {
    const selection = selectionFrom(flags);
    const format = exportFormat(flags);
    const log = openLog(target);
    if (flags.out !== '-') refuseLogFiles(log, flags.out);
    const out = flags.out === '-' ? new StreamOutput(process.stdout) : await AtomicFileOutput.create(flags.out, Boolean(flags.force));
    let count: number;
    // A bar on stderr for long runs, on a terminal only (never in a pipe or CI log).
    const progress = startProgress({ label: 'Exporting', total: () => countRecords(log) });
    try {
      count = await writeEvents(selectEvents(log, { ...selection, onRead: () => progress.advance() }), FRAMINGS[format], out);
    } catch (err) {
      if (out instanceof AtomicFileOutput) await out.abort();
      throw err;
    } finally {
      progress.done();
    }
    if (flags.out !== '-') process.stderr.write(`Exported ${count} event${count === 1 ? '' : 's'} from ${describeLog(log)} to ${flags.out} (${format})\n`);
  });
}

async function writeEvents(events: AsyncIterable<AuditEvent>, framing: Framing, out: TextSink): Promise<number> {
  let count = 0;
  if (framing.head) await out.write(framing.head);
  for await (const event of events) {
    const full = out.write(framing.event(event, count++));
    if (full) await full;
  }
  await out.write(framing.tail(count));
  await out.end();
  return count;
}

/** Never the log being read, nor a log file of any logger's directory, even with --force. */
function refuseLogFiles(log: LogFileRef, out: string): void {
  if (sameFile(log.path, out)) throw new InvalidOptionError('--out', `${out} is the log being exported; choose another file`);
  const dir = dirname(resolve(out));
  // A logger's directory holds audit_log.id: its files are its own, whether it writes that format yet or not.
  if (Object.values(FORMAT_FILES).includes(basename(out)) && existsSync(join(dir, 'audit_log.id'))) {
    throw new InvalidOptionError('--out', `${out} is a file of the log in ${dir}, which a logger may be writing: choose another file`);
  }
}

function formatOption(value: string): ExportFormat {
  const format = value.trim().toLowerCase();
  if (!FORMATS.includes(format as ExportFormat)) throw new InvalidArgumentError(`Expected one of ${FORMATS.join(', ')}.`);
  return format as ExportFormat;
}

/** --to, or the --out extension; a known extension that disagrees with --to would not read back, so it is refused. */
function exportFormat(flags: ExportFlags): ExportFormat {
  const byName = formatOfName(flags.out);
  if (flags.to && byName && flags.to !== byName) {
    throw new InvalidOptionError('--to', `${flags.to} does not match ${flags.out}: the reader tells the format by the extension (.${flags.to} expected)`);
  }
  const format = flags.to ?? byName;
  if (!format) throw new InvalidOptionError('--to', `give --to csv, json or jsonl (${flags.out === '-' ? 'stdout' : flags.out} has no .csv, .json or .jsonl extension)`);
  return format;
}

function formatOfName(path: string): ExportFormat | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.csv')) return 'csv';
  return undefined;
}
