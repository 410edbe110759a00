// The `auditrail` command: one file per subcommand under commands/, each registered here with one line.
import type { Command } from 'commander';
import { registerExport } from './commands/export';
import { registerShow } from './commands/show';
import { registerReport } from './commands/report';
import { registerSummary } from './commands/summary';
import { registerTail } from './commands/tail';
import { registerVerify } from './commands/verify';
import { registerKeygen } from './commands/keygen';
import { registerRedactLookup } from './commands/redact-lookup';
import { registerCollect } from './commands/collect';
import { createRootCommand } from './root';

/** Builds the CLI program (without parsing), so tests can run it in-process. */
export function buildProgram(): Command {
  const program = createRootCommand();
  registerSummary(program);
  registerVerify(program);
  registerKeygen(program);
  registerRedactLookup(program);
  registerShow(program);
  registerExport(program);
  registerTail(program);
  registerReport(program);
  registerCollect(program);
  return program;
}
