// `auditrail summary DIR`: counts by action type and status, from any format.
import type { Command } from 'commander';
import { readEvents, summarize } from '@auditrail/core';

/** Adds the summary command. */
export function registerSummary(program: Command): void {
  program
    .command('summary')
    .argument('<target>', 'log directory or file (jsonl, json or csv)')
    .option('--json', 'print the summary as JSON')
    .description('count events by action type and status')
    .action(async (target: string, options: { json?: boolean }) => {
      const summary = await summarize(readEvents(target));
      if (options.json) {
        process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
        return;
      }
      process.stdout.write(`Total events: ${summary.total_events}\n`);
      process.stdout.write(`By action type: ${JSON.stringify(summary.by_action_type)}\n`);
      process.stdout.write(`By status: ${JSON.stringify(summary.by_status)}\n`);
    });
}
