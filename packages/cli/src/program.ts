// The `auditrail` command: one file per subcommand under commands/, registered here.
import { Command } from 'commander';
import { registerSummary } from './commands/summary';

/** Builds the CLI program (without parsing), so tests can run it in-process. */
export function buildProgram(): Command {
  const program = new Command('auditrail').description('Inspect, export and verify auditrail audit logs').showHelpAfterError();
  registerSummary(program);
  return program;
}
