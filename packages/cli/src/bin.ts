#!/usr/bin/env node
// Entry point of the `auditrail` binary: errors become one line on stderr and exit code 1, never a stack trace.
import { buildProgram } from './program';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`auditrail: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
