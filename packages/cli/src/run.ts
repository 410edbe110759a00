// Runs the CLI in this process: parses argv, runs the command, and maps every failure to one stderr line and an exit code.
import { AuditError, InvalidOptionError } from '@auditrail/core';
import { CommanderError } from 'commander';
import { OutputClosedError } from './output';
import { buildProgram } from './program';
import { EXIT, errorLine } from './root';

/** Runs `auditrail` with Node-style argv (`[node, script, ...args]`) and resolves with the exit code; never throws. */
export async function runCli(argv: readonly string[]): Promise<number> {
  // Commands report a failure they have printed themselves (verify) through process.exitCode:
  // read it for this run only, and leave the host's as it was.
  const hostExitCode = process.exitCode;
  process.exitCode = undefined;
  try {
    await buildProgram().parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    return exitCodeOf(err);
  } finally {
    process.exitCode = hostExitCode;
  }
}

function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander has already printed its message (help, version, or a usage error).
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof OutputClosedError) return EXIT.ok; // `auditrail show DIR | head`: the reader had enough
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(errorLine(message));
  if (err instanceof InvalidOptionError) return EXIT.usage;
  if (err instanceof AuditError) return EXIT.failure;
  if (process.env.AUDITRAIL_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  return EXIT.failure;
}
