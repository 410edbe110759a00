// The root `auditrail` command: name, version, and errors reported as one line each.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';

/** Exit codes of the CLI. */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** The command ran and failed: a missing or malformed log, a failed write, a broken chain. */
  failure: 1,
  /** The command line is wrong: unknown option, bad option value, missing argument. */
  usage: 2,
} as const;

/** One line for stderr: `auditrail: <message>`, whatever the message held. */
export function errorLine(message: string): string {
  const text = withoutCredentials(message.replace(/^error: /, '').replace(/\s*\r?\n\s*/g, ' ').trim());
  return `auditrail: ${text}\n`;
}

/** `text` with the user and password of every URL in it masked (postgres://alice:secret@db/x → postgres://***@db/x): error lines reach logs and terminals. */
export function withoutCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@"']*@/gi, '$1***@');
}

/** The root command, before subcommands are registered; they inherit its error handling. */
export function createRootCommand(): Command {
  return new Command('auditrail')
    .description('Inspect, export and verify auditrail audit logs (JSONL, JSON array or CSV)')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .configureOutput({ outputError: (message, write) => write(errorLine(message)) })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Every command reads a log directory (it picks audit_log.jsonl, then .json, then .csv)
or a log file of any of the three formats.

Exit codes: 0 ok, 1 failure (missing or malformed log, failed write), 2 wrong usage.

Examples:
  $ auditrail summary ./audit_logs/pipeline-lifecycle
  $ auditrail show ./audit_logs --status FAILURE,CRITICAL --since 2h
  $ auditrail show ./audit_logs --action hp_change --newest-first --limit 5 --json
  $ auditrail export ./audit_logs --to csv --out audit.csv`,
    );
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
