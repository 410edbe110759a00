#!/usr/bin/env node
// Entry point of the `auditrail` binary: errors become one line on stderr and a non-zero exit code, never a stack trace.
import { runCli } from './run';

// A closed pipe (`auditrail show DIR | head`) is the reader being done, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});

void runCli(process.argv).then((code) => {
  process.exitCode = code;
});
