// `auditrail show DIR`: the events of a log, filtered, as readable lines or JSON lines.
import type { Command } from 'commander';
import { formatEvent, wantsColor } from '../format-event';
import { addSelectionOptions, selectionFrom, type SelectionFlags } from '../options';
import { StreamOutput } from '../output';
import { openLog, selectEvents } from '../select';

/** Options of the show command. */
interface ShowFlags extends SelectionFlags {
  /** One JSON object per line instead of readable lines. */
  json?: boolean;
}

/** Adds the show command. */
export function registerShow(program: Command): void {
  const command = program
    .command('show')
    .description('print events, oldest first: readable lines, or JSON lines with --json')
    .argument('<target>', 'log directory or file (jsonl, json or csv)')
    .option('--json', 'one JSON object per line, as in audit_log.jsonl')
    .addHelpText(
      'after',
      `
Examples:
  $ auditrail show ./audit_logs --status failure,critical --since 2h
  $ auditrail show ./audit_logs --action hp_change --newest-first -n 5
  $ auditrail show ./audit_logs/audit_log.csv --json | jq .details`,
    );
  addSelectionOptions(command).action(async (target: string, flags: ShowFlags) => {
    const selection = selectionFrom(flags);
    const log = openLog(target);
    const out = new StreamOutput(process.stdout);
    const color = !flags.json && wantsColor(process.stdout);
    for await (const event of selectEvents(log, selection)) {
      const full = out.write((flags.json ? JSON.stringify(event) : formatEvent(event, { color })) + '\n');
      if (full) await full;
    }
    await out.end();
  });
}
