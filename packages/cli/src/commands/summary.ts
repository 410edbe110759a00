// `auditrail summary DIR`: counts by action type and status, and the time span, from any format.
import { formatTimestamp, parseTimestampUs, summarize, type AuditEvent, type LogSummary } from '@auditrail/core';
import type { Command } from 'commander';
import { printable } from '../format-event';
import { addSelectionOptions, selectionFrom, type SelectionFlags } from '../options';
import { StreamOutput } from '../output';
import { describeLog } from '../open-log';
import { checkedEvents, matches, openLog } from '../select';

/** Options of the summary command. */
interface SummaryFlags extends SelectionFlags {
  /** Print `{ total_events, by_action_type, by_status }` as JSON. */
  json?: boolean;
}

/** Adds the summary command. */
export function registerSummary(program: Command): void {
  const command = program
    .command('summary')
    .description('count events by action type and status (the API\'s getLogSummary, from the files)')
    .argument('<target>', 'log directory or file (jsonl, json or csv)')
    .option('--json', 'print { total_events, by_action_type, by_status } as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ auditrail summary ./audit_logs/pipeline-lifecycle
  $ auditrail summary ./audit_logs --since 1d --json`,
    );
  addSelectionOptions(command, { ordering: false }).action(async (target: string, flags: SummaryFlags) => {
    const selection = selectionFrom(flags);
    const log = openLog(target);
    let firstUs = Infinity;
    let lastUs = -Infinity;
    // Counting needs no order: read in file order, so a newest-first array is not held in memory.
    const spanned = async function* (): AsyncGenerator<AuditEvent> {
      for await (const event of checkedEvents(log)) {
        if (!matches(event, selection)) continue;
        const us = parseTimestampUs(event.timestamp);
        if (us < firstUs) firstUs = us;
        if (us > lastUs) lastUs = us;
        yield event;
      }
    };
    const summary = await summarize(spanned());
    const out = new StreamOutput(process.stdout);
    if (flags.json) {
      await out.write(JSON.stringify(summary, null, 2) + '\n');
    } else {
      await out.write(`Log: ${describeLog(log)}\n`);
      await out.write(formatSummary(summary, summary.total_events > 0 ? [formatTimestamp(firstUs), formatTimestamp(lastUs)] : undefined));
    }
    await out.end();
  });
}

/** The readable summary: totals, the time span, then counts, largest first, in aligned columns. */
export function formatSummary(summary: LogSummary, span?: readonly [string, string]): string {
  const lines = [`Total events: ${summary.total_events}`];
  if (span) lines.push(`Time range:   ${span[0]} .. ${span[1]}`);
  lines.push('By action type:', ...table(summary.by_action_type), 'By status:', ...table(summary.by_status));
  return lines.join('\n') + '\n';
}

function table(counts: Record<string, number>): string[] {
  const rows = Object.entries(counts)
    .map(([name, count]) => [printable(name), count] as const)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (rows.length === 0) return ['  (none)'];
  const width = Math.max(...rows.map(([name]) => name.length));
  const digits = Math.max(...rows.map(([, count]) => String(count).length));
  return rows.map(([name, count]) => `  ${name.padEnd(width)}  ${String(count).padStart(digits)}`);
}
